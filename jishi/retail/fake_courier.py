"""A local same-city courier speaking ``jishi.retail.courier``'s signed protocol (tests, demo).

It verifies every request's signature, keeps orders in memory, and builds signed status
callbacks the way the real platform would post them back.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .courier import sign


class FakeCourierServer:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.orders: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._by_ref: dict[str, str] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ts = self.headers.get("X-Timestamp") or ""
                if sign(fake.secret, ts, body) != self.headers.get("X-Signature"):
                    self._answer({"code": 401, "message": "bad signature"})
                    return
                payload = json.loads(body)
                fake.requests.append((self.path, payload))
                self._answer(fake.handle(self.path, payload))

            def _answer(self, data: dict[str, Any]) -> None:
                out = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        if path == "/orders":
            ref = payload["ref"]
            if ref not in self._by_ref:  # the same ref twice is the same order
                courier_id = f"FK{len(self.orders) + 1:06d}"
                self._by_ref[ref] = courier_id
                self.orders[courier_id] = {"ref": ref, "status": "created", **payload}
            return {"code": 0, "courier_order_id": self._by_ref[ref]}
        if path == "/orders/cancel":
            order = self.orders.get(payload["courier_order_id"])
            if order is None or order["status"] == "delivered":
                return {"code": 409, "message": "not cancellable"}
            order["status"] = "cancelled"
            return {"code": 0}
        return {"code": 404, "message": "unknown path"}

    def callback(self, courier_order_id: str, status: str, *, at: float | None = None) -> tuple[bytes, dict[str, str]]:
        """A signed status callback body and headers, as the platform posts them."""
        self.orders[courier_order_id]["status"] = status
        body = json.dumps(
            {"courier_order_id": courier_order_id, "ref": self.orders[courier_order_id]["ref"], "status": status}
        ).encode()
        ts = str(int(at if at is not None else time.time()))
        return body, {"X-Timestamp": ts, "X-Signature": sign(self.secret, ts, body)}

    def start(self) -> FakeCourierServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
