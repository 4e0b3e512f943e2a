"""District centres of China (省/市/区 → latitude, longitude), offline, for approximate geocoding.

Shipped in ``data/district_points.json``, built from the adcode table of the ``cpca`` package
(MIT) under the same names as the storefront's region picker: {province: {city: {district:
[lat, lng]}}}. The console geocoder answers from it, and so does the local AMap fake.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

POINTS_FILE = Path(__file__).parent / "data" / "district_points.json"

Points = dict[str, dict[str, dict[str, list[float]]]]


@lru_cache(maxsize=1)
def points() -> Points:
    data: Points = json.loads(POINTS_FILE.read_text(encoding="utf-8"))
    return data


def district_centre(province: str, city: str, district: str) -> tuple[float, float] | None:
    found = points().get(province, {}).get(city, {}).get(district)
    return (found[0], found[1]) if found else None


def find_district(text: str, city_hint: str = "") -> tuple[str, str, str] | None:
    """The (province, city, district) a free-text address names, longest names first.

    "浙江省杭州市西湖区文三路 1 号" → ("浙江省", "杭州市", "西湖区"). A province may be left
    out ("杭州市西湖区…"), and ``city_hint`` picks among cities when the text names none.
    """
    text = text.replace(" ", "")
    best: tuple[int, tuple[str, str, str]] | None = None
    for province, cities in points().items():
        in_text = province in text or province.rstrip("省市") in text
        for city, districts in cities.items():
            hinted = bool(city_hint) and city_hint in (city, city[:-1])
            city_named = city in text or (city == province and in_text) or hinted
            if not city_named:
                continue
            for district in districts:
                if district in text:
                    score = len(district) + len(city) * (city in text) + len(province) * in_text
                    if best is None or score > best[0]:
                        best = (score, (province, city, district))
    return best[1] if best else None
