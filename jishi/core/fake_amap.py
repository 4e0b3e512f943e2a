"""A local 高德 (AMap) Web service speaking ``GET /v3/geocode/geo`` (tests, the demo).

It checks the key and, when it holds a private key, the ``sig`` of every request exactly as
AMap does, and answers in AMap's JSON: ``status``/``info``/``infocode``/``count`` and
``geocodes[].location`` as ``"lng,lat"``. Places registered in ``places`` answer exactly; any
other address inside a known district answers a point near the district's centre, the same
point for the same address every time.
"""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import gazetteer, geo
from .geocoding import amap_sign

# (infocode, info) of the answers the fake gives
OK = ("10000", "OK")
INVALID_USER_KEY = ("10001", "INVALID_USER_KEY")
INVALID_USER_SIGNATURE = ("10007", "INVALID_USER_SIGNATURE")
DAILY_QUERY_OVER_LIMIT = ("10003", "DAILY_QUERY_OVER_LIMIT")
MISSING_REQUIRED_PARAMS = ("20001", "MISSING_REQUIRED_PARAMS")


class FakeAmapServer:
    def __init__(self, key: str, private_key: str = "", host: str = "127.0.0.1", port: int = 0) -> None:
        self.key = key
        self.private_key = private_key
        self.places: dict[str, tuple[float, float]] = {}  # address text → (lat, lng)
        self.requests: list[dict[str, str]] = []
        self.refuse: tuple[str, str] | None = None  # answer every request with this error
        self.http_status = 200  # anything else: the gateway fails before AMap answers
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                fake.requests.append(params)
                if fake.http_status != 200:
                    self._send(fake.http_status, b"<html>502 Bad Gateway</html>", "text/html")
                    return
                if parts.path != "/v3/geocode/geo":
                    self._send(404, b"not found", "text/plain")
                    return
                body = json.dumps(fake.answer(params), ensure_ascii=False).encode()
                self._send(200, body, "application/json;charset=UTF-8")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def _error(code: tuple[str, str]) -> dict[str, Any]:
        return {"status": "0", "info": code[1], "infocode": code[0]}

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("key") != self.key:
            return self._error(INVALID_USER_KEY)
        if self.private_key and params.get("sig") != amap_sign(params, self.private_key):
            return self._error(INVALID_USER_SIGNATURE)
        if self.refuse:
            return self._error(self.refuse)
        address = (params.get("address") or "").replace(" ", "")
        if not address:
            return self._error(MISSING_REQUIRED_PARAMS)
        found = self.locate(address, params.get("city") or "")
        geocodes = [found] if found else []
        return {"status": "1", "info": "OK", "infocode": "10000", "count": str(len(geocodes)), "geocodes": geocodes}

    def locate(self, address: str, city: str) -> dict[str, Any] | None:
        named = gazetteer.find_district(address, city)
        if address in self.places:
            lat, lng = self.places[address]
            level = "门牌号"
        elif named is not None:
            centre = gazetteer.district_centre(*named)
            assert centre is not None
            rest = address.split(named[2], 1)[-1]
            if rest:
                # A street address: somewhere within 1.5 km of the centre, fixed by the text.
                digest = hashlib.sha256(address.encode()).digest()
                bearing, meters = digest[0] * 360 / 256, 100 + int.from_bytes(digest[1:3]) % 1400
                lat, lng = geo.destination(centre[0], centre[1], bearing, meters)
                level = "门牌号"
            else:
                lat, lng, level = centre[0], centre[1], "区县"
        else:
            return None
        province, city_name, district = named or ("", "", "")
        return {
            "formatted_address": address,
            "country": "中国",
            "province": province,
            "city": city_name,
            "district": district,
            "location": f"{lng:.6f},{lat:.6f}",
            "level": level,
        }

    def start(self) -> FakeAmapServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
