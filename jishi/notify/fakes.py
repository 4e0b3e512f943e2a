"""Local stand-ins for the vendors (tests, bench): real HTTP on port 0, the vendors' signing checked.

- ``FakeAliyunSms``: Dysmsapi RPC ``SendSms`` signed ACS3-HMAC-SHA256, answers as Aliyun does.
- ``FakeTencentSms``: ``SendSms`` (2021-01-11) signed TC3-HMAC-SHA256.
- ``FakeWechat``: ``/cgi-bin/token`` and subscribe/template message sends with token expiry.
- ``FakeMailgun``: ``POST /v3/<domain>/messages`` with the API key as basic auth (what anymail's
  Mailgun backend sends); ``mailgun_event`` builds a tracking webhook body signed as Mailgun signs.

A request whose signature does not verify is answered with the vendor's signature error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

Reply = tuple[int, dict[str, Any]]


class _Server:
    """A threaded HTTP server on a free port; ``handle(method, path, query, headers, body)``."""

    def __init__(self) -> None:
        owner = self
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.delay = 0.0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                if owner.delay:
                    time.sleep(owner.delay)
                status, answer = owner.handle(self.command, parts.path, parts.query, dict(self.headers), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Reply:
        return 404, {"error": "not found"}  # each fake answers its own protocol

    def record(self, **entry: Any) -> None:
        with self.lock:
            self.requests.append(entry)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class FakeAliyunSms(_Server):
    """Phones starting ``1999`` are invalid numbers (``isv.MOBILE_NUMBER_ILLEGAL``)."""

    def __init__(self, access_key_id: str = "test-ak", secret: str = "test-secret") -> None:  # noqa: S107
        self.access_key_id, self.secret = access_key_id, secret
        self.next_biz = 0
        self.fail_next: list[str] = []
        super().__init__()

    def _verify(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> bool:
        h = _lower(headers)
        auth = h.get("authorization", "")
        if not auth.startswith("ACS3-HMAC-SHA256 "):
            return False
        fields = dict(part.strip().split("=", 1) for part in auth[len("ACS3-HMAC-SHA256 ") :].split(","))
        if fields.get("Credential") != self.access_key_id:
            return False
        payload_hash = hashlib.sha256(body).hexdigest()
        if h.get("x-acs-content-sha256") != payload_hash:
            return False
        pairs = sorted(parse_qsl(query, keep_blank_values=True))
        canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
        signed = fields["SignedHeaders"].split(";")
        canonical_headers = "".join(f"{name}:{h.get(name, '').strip()}\n" for name in signed)
        canonical = (
            f"{method}\n{path or '/'}\n{canonical_query}\n{canonical_headers}\n{';'.join(signed)}\n{payload_hash}"
        )
        to_sign = f"ACS3-HMAC-SHA256\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        expected = hmac.new(self.secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields.get("Signature", ""))

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Reply:
        params = dict(parse_qsl(query))
        params.update(dict(parse_qsl(body.decode())))
        if not self._verify(method, path, query, headers, body):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "signature mismatch", "RequestId": "fake"}
        if _lower(headers).get("x-acs-action") != "SendSms":
            return 400, {"Code": "InvalidAction", "Message": "unknown action", "RequestId": "fake"}
        self.record(**params)
        if self.fail_next:
            code = self.fail_next.pop(0)
            return 200, {"Code": code, "Message": code, "RequestId": "fake"}
        if params.get("PhoneNumbers", "").startswith("1999"):
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "fake"}
        with self.lock:
            self.next_biz += 1
            biz = f"{900000 + self.next_biz}^0"
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz, "RequestId": "fake"}


class FakeTencentSms(_Server):
    def __init__(self, secret_id: str = "test-id", secret_key: str = "test-key") -> None:  # noqa: S107
        self.secret_id, self.secret_key = secret_id, secret_key
        self.serial = 0
        super().__init__()

    def _verify(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        h = _lower(headers)
        auth = h.get("authorization", "")
        prefix = "TC3-HMAC-SHA256 "
        if not auth.startswith(prefix):
            return False
        fields = dict(part.strip().split("=", 1) for part in auth[len(prefix) :].split(","))
        secret_id, date, service, _term = fields.get("Credential", "///").split("/")
        if secret_id != self.secret_id:
            return False
        canonical_headers = f"content-type:{h.get('content-type', '')}\nhost:{h.get('host', '')}\n"
        canonical = "\n".join(
            [method, path or "/", "", canonical_headers, "content-type;host", hashlib.sha256(body).hexdigest()]
        )
        scope = f"{date}/{service}/tc3_request"
        to_sign = (
            f"TC3-HMAC-SHA256\n{h.get('x-tc-timestamp', '')}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        )

        def mac(key: bytes, msg: str) -> bytes:
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()

        key = mac(mac(mac(f"TC3{self.secret_key}".encode(), date), service), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields.get("Signature", ""))

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Reply:
        if not self._verify(method, path, headers, body):
            return 200, {
                "Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}, "RequestId": "f"}
            }
        params = json.loads(body or b"{}")
        self.record(action=_lower(headers).get("x-tc-action"), **params)
        statuses = []
        for phone in params.get("PhoneNumberSet", []):
            if phone.startswith("+861999"):
                statuses.append(
                    {
                        "SerialNo": "",
                        "PhoneNumber": phone,
                        "Fee": 0,
                        "SessionContext": params.get("SessionContext", ""),
                        "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                        "Message": "bad number",
                        "IsoCode": "CN",
                    }
                )
                continue
            with self.lock:
                self.serial += 1
                serial = f"2433:{self.serial:012d}"
            statuses.append(
                {
                    "SerialNo": serial,
                    "PhoneNumber": phone,
                    "Fee": 1,
                    "SessionContext": params.get("SessionContext", ""),
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            )
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": "fake"}}


class FakeWechat(_Server):
    """Tokens live ``token_ttl`` seconds (as ``expires_in``); ``expire_tokens()`` ends them early.

    The openid ``refused`` has turned the messages down (43101)."""

    def __init__(self, app_secrets: dict[str, str] | None = None, token_ttl: int = 7200) -> None:
        self.app_secrets = app_secrets or {"wx-mini": "mini-secret", "wx-mp": "mp-secret"}
        self.token_ttl = token_ttl
        self.tokens: dict[str, str] = {}
        self.tokens_issued = 0
        self.msg_id = 0
        self.on_send: Callable[[dict[str, Any]], None] | None = None
        super().__init__()

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Reply:
        params = dict(parse_qsl(query))
        if path == "/cgi-bin/token":
            app_id = params.get("appid", "")
            if params.get("grant_type") != "client_credential" or self.app_secrets.get(app_id) != params.get("secret"):
                return 200, {"errcode": 40013, "errmsg": "invalid appid or secret"}
            with self.lock:
                self.tokens_issued += 1
                token = f"TOKEN-{app_id}-{self.tokens_issued}"
                self.tokens[token] = app_id
            return 200, {"access_token": token, "expires_in": self.token_ttl}
        if path in ("/cgi-bin/message/subscribe/send", "/cgi-bin/message/template/send"):
            if params.get("access_token") not in self.tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            payload = json.loads(body or b"{}")
            self.record(path=path, **payload)
            if payload.get("touser") == "refused":
                return 200, {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
            with self.lock:
                self.msg_id += 1
                msg_id = 7_000_000 + self.msg_id
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": msg_id}
        return 404, {"errcode": 404, "errmsg": "not found"}


class FakeMailgun(_Server):
    """Mailgun's messages API: basic auth ``api:<key>``, form fields, a queued Message-ID back."""

    def __init__(self, api_key: str = "test-mailgun-key", domain: str = "mg.jishi.test") -> None:
        super().__init__()
        self.api_key, self.domain, self.sent = api_key, domain, 0

    @property
    def api_url(self) -> str:
        return f"http://{self.endpoint}/v3"

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Reply:
        import base64
        from email import policy
        from email.parser import BytesParser

        h = _lower(headers)
        expected = "Basic " + base64.b64encode(f"api:{self.api_key}".encode()).decode()
        if not hmac.compare_digest(h.get("authorization", ""), expected):
            return 401, {"message": "Invalid private key"}
        if method != "POST" or path != f"/v3/{self.domain}/messages":
            return 404, {"message": "Domain not found"}
        content_type = h.get("content-type", "")
        fields: dict[str, str] = {}
        if content_type.startswith("multipart/"):
            head = f"Content-Type: {content_type}\r\n\r\n".encode()
            parsed = BytesParser(policy=policy.default).parsebytes(head + body)
            for part in parsed.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if isinstance(name, str):
                    payload = part.get_payload(decode=True)
                    fields[name] = payload.decode() if isinstance(payload, bytes) else str(payload)
        else:
            fields = dict(parse_qsl(body.decode()))
        if not fields.get("to") or not fields.get("from"):
            return 400, {"message": "'to' parameter is missing"}
        with self.lock:
            self.sent += 1
            message_id = f"<20261201.{self.sent}.{len(fields['to'])}@{self.domain}>"
        self.record(message_id=message_id, **fields)
        return 200, {"id": message_id, "message": "Queued. Thank you."}


def mailgun_event(
    event: str, message_id: str, signing_key: str, recipient: str = "buyer@example.com", **data: Any
) -> dict[str, Any]:
    """A Mailgun tracking webhook body (``delivered``, ``failed``, ``opened``, ``complained``…),
    signed as Mailgun signs: HMAC-SHA256(signing key, timestamp + token)."""
    timestamp, token = str(int(time.time())), hashlib.sha256(f"{event}{message_id}{time.time()}".encode()).hexdigest()
    signature = hmac.new(signing_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "timestamp": float(timestamp),
            "id": token[:22],
            "recipient": recipient,
            "message": {"headers": {"message-id": message_id.strip("<>")}},
            **data,
        },
    }


class SlowConsoleBackend:
    """A channel that answers after ``SLOW_BACKEND_SECONDS`` (50 ms): shows throttle and concurrency."""

    delay = 0.05

    def send(self, message: Any) -> Any:
        from .channels.base import Outcome

        time.sleep(self.delay)
        return Outcome(ok=True, vendor_id=f"slow-{message.delivery_id}")
