"""A stateful local Alipay gateway for money-path tests: the real SDK talks to it over HTTP.

It checks the merchant's RSA2 request signature, signs its answers with its own key as Alipay
does, and keeps trades and refunds the way Alipay does: a refund is keyed by
``out_request_no``, so asking again with the same number answers success without paying twice.
Knobs let a test make a method unavailable (code 20000, which the adapter reports as a
``ProviderError``) or hold refund requests open (to kill the client mid-call).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jishi.payments.tests.rsa_keys import private_pem, public_pem, rsa_key, rsa_sign, rsa_verify

APP_ID = "2021004100000099"


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _fen(yuan: str) -> int:
    return int(Decimal(yuan) * 100)


@dataclass
class FakeTrade:
    amount: int
    status: str = "WAIT_BUYER_PAY"
    refunds: dict[str, int] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        return sum(self.refunds.values())


class FakeAlipay:
    def __init__(self) -> None:
        self.app_key, self.alipay_key = rsa_key(), rsa_key()
        self.trades: dict[str, FakeTrade] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.unavailable: set[str] = set()  # methods answering "service unavailable"
        self.hold_refunds = threading.Event()  # while set, refund requests wait (after recording)
        self.refund_received = threading.Event()
        self.bad_signatures = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                params = dict(parse_qsl(urlsplit(self.path).query))
                fake._answer(self, params)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(urlsplit(self.path).query))
                params.update(parse_qsl(self.rfile.read(length).decode()))
                fake._answer(self, params)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gateway.do"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()

    # -- what a test needs ---------------------------------------------------------------

    def config(self) -> dict[str, str]:
        """``JISHI_PAYMENTS["ALIPAY"]`` for a provider that talks to this fake."""
        return {
            "APP_ID": APP_ID,
            "APP_PRIVATE_KEY": private_pem(self.app_key),
            "ALIPAY_PUBLIC_KEY": public_pem(self.alipay_key),
            "GATEWAY": self.url,
        }

    def env(self) -> dict[str, str]:
        """The same, as the environment variables a child process reads."""
        c = self.config()
        return {
            "JISHI_ALIPAY_APP_ID": c["APP_ID"],
            "JISHI_ALIPAY_APP_PRIVATE_KEY": c["APP_PRIVATE_KEY"],
            "JISHI_ALIPAY_PUBLIC_KEY": c["ALIPAY_PUBLIC_KEY"],
            "JISHI_ALIPAY_GATEWAY": c["GATEWAY"],
        }

    def buyer_pays(self, payment_no: str, amount: int) -> None:
        with self._lock:
            self.trades[payment_no] = FakeTrade(amount=amount, status="TRADE_SUCCESS")

    def refund_calls(self, payment_no: str | None = None) -> list[dict[str, Any]]:
        return [
            biz
            for method, biz in self.calls
            if method == "alipay.trade.refund" and (payment_no is None or biz.get("out_trade_no") == payment_no)
        ]

    def close(self) -> None:
        self.hold_refunds.clear()
        self.server.shutdown()
        self.server.server_close()

    # -- the gateway ---------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        method = params.get("method", "")
        signed = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")
        if not rsa_verify(self.app_key, signed, params.get("sign", "")):
            self.bad_signatures += 1
            inner: dict[str, Any] = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
        else:
            biz = json.loads(params.get("biz_content") or "{}")
            with self._lock:
                self.calls.append((method, biz))
            if method in self.unavailable:
                inner = {"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "aop.unknow-error"}
            else:
                inner = self._dispatch(method, biz)
        body_inner = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
        key = method.replace(".", "_") + "_response"
        body = f'{{"{key}":{body_inner},"sign":"{rsa_sign(self.alipay_key, body_inner)}"}}'.encode()
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html;charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the client went away (killed mid-call): the refund stands all the same

    def _dispatch(self, method: str, biz: dict[str, Any]) -> dict[str, Any]:
        ok = {"code": "10000", "msg": "Success"}
        no = str(biz.get("out_trade_no", ""))
        with self._lock:
            trade = self.trades.get(no)
        missing = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
        if method == "alipay.trade.query":
            if trade is None:
                return missing
            return {
                **ok,
                "out_trade_no": no,
                "trade_no": f"2026{no}",
                "trade_status": trade.status,
                "total_amount": _yuan(trade.amount),
            }
        if method == "alipay.trade.close":
            if trade is None:
                return missing
            if trade.status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
                return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR"}
            trade.status = "TRADE_CLOSED"
            return {**ok, "out_trade_no": no}
        if method == "alipay.trade.refund":
            return self._refund(trade, no, biz)
        if method == "alipay.trade.fastpay.refund.query":
            request_no = str(biz.get("out_request_no", ""))
            if trade is None:
                return missing
            if request_no not in trade.refunds:
                return {**ok, "out_trade_no": no}
            return {
                **ok,
                "out_trade_no": no,
                "out_request_no": request_no,
                "refund_amount": _yuan(trade.refunds[request_no]),
                "refund_status": "REFUND_SUCCESS",
            }
        return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.INVALID_METHOD"}

    def _refund(self, trade: FakeTrade | None, no: str, biz: dict[str, Any]) -> dict[str, Any]:
        if trade is None or trade.status not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR"}
        request_no = str(biz["out_request_no"])
        amount = _fen(str(biz["refund_amount"]))
        with self._lock:
            fund_change = "N"
            if request_no not in trade.refunds:
                if trade.refunded + amount > trade.amount:
                    return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"}
                trade.refunds[request_no] = amount  # the money has gone back, whatever happens next
                fund_change = "Y"
        self.refund_received.set()
        while self.hold_refunds.is_set():
            time.sleep(0.05)
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": no,
            "refund_fee": _yuan(trade.refunded),
            "fund_change": fund_change,
        }
