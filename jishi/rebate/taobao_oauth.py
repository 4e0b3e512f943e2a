"""The buyer's Taobao authorisation on the web (OAuth 2.0, server-side flow), for buyers who are
not in the App: the sc APIs behind the channel registration act for the authorised buyer.

1. ``authorize_url``: the source's authorisation page (``oauth_url``, Taobao's own by default) with
   ``response_type=code``, ``client_id`` (the app key), ``redirect_uri`` and a ``state`` signed by
   Jishi that names the buyer, the goods to come back to, and a nonce kept in the buyer's session
   (so a code cannot be planted in somebody else's browser).
2. The network sends the buyer back with ``code`` + ``state`` (or ``error=access_denied``).
3. ``exchange_code``: ``taobao.top.auth.token.create`` through the signed gateway turns the one-use
   code into the access token, which then goes to ``registration`` as the buyer's session. No
   transaction is open during the call; nothing is written before it, so a crash only costs the
   buyer another tap on 授权.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from django.core import signing

from .adapters import NetworkError, TaobaoAdapter, http_adapter
from .models import Network, RebateSource
from .registration import in_transaction, source_for

STATE_SALT = "jishi.rebate.taobao-oauth"
STATE_MAX_AGE_SECONDS = 600  # the buyer has ten minutes on the network's page


@dataclass(frozen=True)
class State:
    user_id: int
    goods_id: int
    nonce: str


def web_source() -> RebateSource | None:
    """The enabled Taobao source, if it lets web buyers authorise (an ``oauth_url`` is set)."""
    source = source_for(Network.TAOBAO)
    return source if source is not None and source.oauth_url else None


def make_state(state: State) -> str:
    return signing.dumps({"u": state.user_id, "g": state.goods_id, "n": state.nonce}, salt=STATE_SALT, compress=True)


def read_state(raw: str, *, user_id: int, nonce: str) -> State | None:
    """The state if Jishi signed it within the last ten minutes for this buyer and this browser."""
    try:
        data = signing.loads(raw, salt=STATE_SALT, max_age=STATE_MAX_AGE_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not nonce:
        return None
    if data.get("u") != user_id or data.get("n") != nonce or not isinstance(data.get("g"), int):
        return None
    return State(user_id=user_id, goods_id=int(data["g"]), nonce=nonce)


def authorize_url(source: RebateSource, *, redirect_uri: str, state: str, view: str = "wap") -> str:
    query = {
        "response_type": "code",
        "client_id": source.app_key,
        "redirect_uri": redirect_uri,
        "state": state,
        "view": view,  # wap: the phone page (the storefront is a phone web app)
    }
    return f"{source.oauth_url}?{urlencode(query)}"


def exchange_code(source: RebateSource, code: str, session: requests.Session | None = None) -> str:
    """The access token for ``code``. Raises ``NetworkError``: ``authorization`` when the network
    refused the code (used, expired, made up), ``transient`` when it did not answer."""
    if in_transaction():
        raise RuntimeError("the Taobao token call must not run inside a transaction")
    try:
        adapter = http_adapter(source, session)
    except ValueError:  # the source's secret was written under another credential key
        raise NetworkError("credentials", "a secret cannot be decrypted with the configured key") from None
    if not isinstance(adapter, TaobaoAdapter):
        raise NetworkError("no_source", "not a Taobao source")
    return adapter.create_token(code)
