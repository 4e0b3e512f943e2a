"""Request signing of the three affiliate networks (TOP, Pinduoduo open platform, JD open platform).

All three sort the parameters by name and concatenate ``k1v1k2v2…`` (the ``sign`` parameter itself
excluded); they differ in how the secret wraps that string.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def canonical(params: Mapping[str, object]) -> str:
    """``k1v1k2v2…`` over the parameters sorted by name (ASCII), ``sign`` and empty values left out."""
    return "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v is not None and v != "")


def _md5_wrapped(secret: str, params: Mapping[str, object]) -> str:
    text = f"{secret}{canonical(params)}{secret}"
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 - the networks' protocol


def top_sign(params: Mapping[str, object], secret: str, method: str = "md5") -> str:
    """Taobao TOP: md5 = MD5(secret + s + secret); hmac = HMAC-MD5(secret, s); hex upper-case."""
    if method == "hmac":
        return hmac.new(secret.encode(), canonical(params).encode(), hashlib.md5).hexdigest().upper()
    if method != "md5":
        raise ValueError(f"unsupported TOP sign_method {method!r}")
    return _md5_wrapped(secret, params)


def pdd_sign(params: Mapping[str, object], client_secret: str) -> str:
    """Pinduoduo: MD5(client_secret + s + client_secret), upper-case."""
    return _md5_wrapped(client_secret, params)


def jd_sign(params: Mapping[str, object], app_secret: str) -> str:
    """JD: MD5(appSecret + s + appSecret), upper-case; business parameters sit in ``360buy_param_json``."""
    return _md5_wrapped(app_secret, params)


def signature_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.upper(), (given or "").upper())
