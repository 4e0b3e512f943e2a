"""WeChat subscribe messages (mini-program) and template messages (official account) over HTTP.

The access token is cached (Django cache) until shortly before it expires; an answer that the
token is invalid or expired drops it and the send is tried once more with a fresh one.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.core.cache import cache

from .. import conf
from .base import Outcome, Send

log = logging.getLogger(__name__)

TOKEN_INVALID = {40001, 40014, 42001}
# The member refused or blocked the messages, or the openid is wrong: retrying cannot help.
PERMANENT = {43101, 43004, 40003, 40037, 47003}
TOKEN_MARGIN_SECONDS = 300


class WechatError(Exception):
    pass


def _app(kind: str) -> tuple[str, str]:
    cfg = conf.notify_setting("WECHAT")
    if kind == "official":
        return cfg["OFFICIAL_APP_ID"], cfg["OFFICIAL_SECRET"]
    return cfg["MINIPROGRAM_APP_ID"], cfg["MINIPROGRAM_SECRET"]


def _token_key(app_id: str) -> str:
    return f"notify:wechat-token:{app_id}"


def access_token(kind: str, *, fresh: bool = False) -> str:
    """The app's access token from the cache, or a new one from ``/cgi-bin/token``."""
    app_id, secret = _app(kind)
    key = _token_key(app_id)
    if not fresh:
        token = cache.get(key)
        if token:
            return str(token)
    response = requests.get(
        f"{conf.notify_setting('WECHAT')['API_BASE']}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": app_id, "secret": secret},
        timeout=conf.notify_setting("HTTP_TIMEOUT"),
    )
    data = response.json()
    if not data.get("access_token"):
        raise WechatError(f"token: {data.get('errcode')} {data.get('errmsg')}")
    ttl = max(int(data.get("expires_in", 7200)) - TOKEN_MARGIN_SECONDS, 60)
    cache.set(key, data["access_token"], ttl)
    return str(data["access_token"])


def _payload(message: Send) -> tuple[str, dict[str, Any]]:
    template = conf.notify_setting("WECHAT")["TEMPLATES"][message.category]
    if message.wechat_kind == "official":
        return "/cgi-bin/message/template/send", {
            "touser": message.address,
            "template_id": template,
            "url": conf.public_url(message.link) if message.link else "",
            "data": {"first": {"value": message.title}, "remark": {"value": message.body[:200]}},
            "client_msg_id": str(message.delivery_id),
        }
    return "/cgi-bin/message/subscribe/send", {
        "touser": message.address,
        "template_id": template,
        "page": message.link.lstrip("/"),
        "data": {"thing1": {"value": message.title[:20]}, "thing2": {"value": message.body[:20]}},
    }


class WechatBackend:
    def send(self, message: Send) -> Outcome:
        path, body = _payload(message)
        url = f"{conf.notify_setting('WECHAT')['API_BASE']}{path}"
        data: dict[str, Any] = {}
        for fresh in (False, True):
            token = access_token(message.wechat_kind, fresh=fresh)
            response = requests.post(
                url, params={"access_token": token}, json=body, timeout=conf.notify_setting("HTTP_TIMEOUT")
            )
            data = response.json()
            if data.get("errcode") not in TOKEN_INVALID:
                break
            cache.delete(_token_key(_app(message.wechat_kind)[0]))
        code = int(data.get("errcode", -1))
        if code == 0:
            return Outcome(ok=True, vendor_id=str(data.get("msgid", ""))[:64])
        log.info("wechat refused delivery %s: %s %s", message.delivery_id, code, data.get("errmsg"))
        return Outcome(ok=False, reason=f"wechat:{code}", permanent=code in PERMANENT)
