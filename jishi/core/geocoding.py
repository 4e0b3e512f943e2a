"""Addresses to coordinates: the geocoder adapters (AMap Web service, offline console) and errors.

A geocoder is a remote call: callers locate an address first, outside any database
transaction, and save the point afterwards (``accounts.services.locate_address``).

- ``console`` (default): no account, no network. District centres from ``jishi.core.gazetteer``,
  printed as it answers, so a shop runs (and its demo delivers) without a map vendor.
- ``amap``: 高德 Web service ``GET /v3/geocode/geo`` with ``key`` and, when the key has digital
  signatures switched on, ``sig`` = MD5 of the parameters sorted by name and joined as
  ``k=v&k=v``, with the private key appended. The answer's ``geocodes[0].location`` is
  ``"lng,lat"``. ``jishi.core.fake_amap`` speaks the same protocol for tests and the demo.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext_lazy as _

from . import gazetteer, geo
from .conf import setting
from .errors import DomainError, InvalidInput

log = logging.getLogger("jishi.geocoding")

AMAP_URL = "https://restapi.amap.com"


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float
    level: str = ""  # what the answer pins: 门牌号, 道路, 区县 …
    formatted: str = ""


@dataclass(frozen=True)
class AddressQuery:
    province: str
    city: str
    district: str
    detail: str

    @property
    def text(self) -> str:
        # AMap reads a structured address best: 省 市 区 then the street and number.
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.district}{self.detail}".replace(" ", "")


class AddressNotLocated(InvalidInput):
    code = "address_not_located"
    default_message = _("无法定位该地址，请核对省市区和详细地址")


class GeocoderUnavailable(DomainError):
    """The geocoder could not be reached, or refused us (key, quota, signature): not the buyer's
    fault, and nothing was saved. The API answers 502."""

    status = 502
    code = "geocoder_unavailable"
    default_message = _("地址定位服务暂时无法使用，请稍后再试")


class Geocoder(Protocol):
    name: str

    def locate(self, query: AddressQuery) -> GeoPoint | None:
        """The point of ``query``, None when the service knows no such place; raises
        GeocoderUnavailable when it cannot answer."""
        ...


class ConsoleGeocoder:
    """Offline: the centre of the named district (level 区县). Good enough to route a demo
    shop's deliveries; a real shop configures AMap, or buyers pick their point."""

    name = "console"

    def locate(self, query: AddressQuery) -> GeoPoint | None:
        names = (query.province, query.city, query.district)
        found = gazetteer.district_centre(*names)
        if found is None:
            named = gazetteer.find_district(query.text, query.city)
            found = gazetteer.district_centre(*named) if named else None
            names = named or names
        log.info("console geocoder: %s → %s (区县)", query.text, found)
        if found is None:
            return None
        return GeoPoint(found[0], found[1], "区县", "".join(dict.fromkeys(names)))


def amap_sign(params: Mapping[str, str], private_key: str) -> str:
    """高德 digital signature: MD5 hex of ``k=v&…`` sorted by name (raw values), private key appended."""
    text = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sig")
    return hashlib.md5((text + private_key).encode("utf-8")).hexdigest()  # noqa: S324 - the vendor's scheme


def parse_location(value: str) -> tuple[float, float] | None:
    """AMap's ``"lng,lat"`` as (lat, lng); None when it is not a valid point."""
    try:
        lng_text, lat_text = value.split(",")
        lat, lng = float(lat_text), float(lng_text)
    except (AttributeError, ValueError):
        return None
    return (lat, lng) if geo.valid_point(lat, lng) else None


class AmapGeocoder:
    name = "amap"

    def __init__(self, key: str, private_key: str = "", base_url: str = AMAP_URL, timeout: float = 5.0) -> None:
        if not key:
            raise GeocoderUnavailable(_("未配置高德地图 Key"), code="geocoder_not_configured")
        self.key = key
        self.private_key = private_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request_params(self, query: AddressQuery) -> dict[str, str]:
        params = {"address": query.text, "key": self.key, "output": "JSON"}
        if query.city:
            params["city"] = query.city
        if self.private_key:
            params["sig"] = amap_sign(params, self.private_key)
        return params

    def locate(self, query: AddressQuery) -> GeoPoint | None:
        url = f"{self.base_url}/v3/geocode/geo?{urllib.parse.urlencode(self.request_params(query))}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:  # noqa: S310 - a configured URL
                answer = json.loads(resp.read())
        except (OSError, ValueError) as exc:  # unreachable, timed out, HTTP error, not JSON
            log.warning("amap geocode failed: %s", exc)
            raise GeocoderUnavailable() from exc
        if not isinstance(answer, dict):
            raise GeocoderUnavailable()
        if str(answer.get("status")) != "1":
            # INVALID_USER_KEY, INVALID_USER_SIGNATURE, DAILY_QUERY_OVER_LIMIT …: ours to fix, or wait.
            log.warning("amap geocode refused: %s %s", answer.get("infocode"), answer.get("info"))
            raise GeocoderUnavailable()
        found = answer.get("geocodes") or []
        if not isinstance(found, list) or not found or not isinstance(found[0], dict):
            return None
        point = parse_location(str(found[0].get("location") or ""))
        if point is None:
            return None
        first = found[0]
        return GeoPoint(point[0], point[1], str(first.get("level") or ""), str(first.get("formatted_address") or ""))


_override: Geocoder | None = None


def use_geocoder(geocoder: Geocoder | None) -> None:
    """Tests and the demo: answer with ``geocoder`` (None: back to the configured one)."""
    global _override
    _override = geocoder


def get_geocoder() -> Geocoder:
    """The configured geocoder: ``JISHI_GEOCODER`` = ``console`` (default) or ``amap``
    (``JISHI_AMAP_KEY``, ``JISHI_AMAP_PRIVATE_KEY``, ``JISHI_AMAP_URL``)."""
    if _override is not None:
        return _override
    if setting("GEOCODER") == "amap":
        return AmapGeocoder(setting("AMAP_KEY"), setting("AMAP_PRIVATE_KEY"), setting("AMAP_URL") or AMAP_URL)
    return ConsoleGeocoder()


def geocode(query: AddressQuery) -> GeoPoint:
    """The point of an address, or AddressNotLocated (422) / GeocoderUnavailable (502)."""
    point = get_geocoder().locate(query)
    if point is None:
        raise AddressNotLocated(fields={"detail": [query.text]})
    return point
