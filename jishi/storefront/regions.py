"""China's 省/市/区 for the address picker, shipped in ``static/storefront/regions.json``.

Built from the adcode table of the ``cpca`` package (MIT): {province: {city: [district, ...]}},
municipalities listed as their own city; no request ever leaves the server for it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

REGIONS_FILE = Path(__file__).parent / "static" / "storefront" / "regions.json"

Regions = dict[str, dict[str, list[str]]]


@lru_cache(maxsize=1)
def regions() -> Regions:
    data: Regions = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    return data


def provinces() -> list[str]:
    return list(regions())


def cities(province: str) -> list[str]:
    return list(regions().get(province, {}))


def districts(province: str, city: str) -> list[str]:
    return list(regions().get(province, {}).get(city, []))


def is_known(province: str, city: str, district: str) -> bool:
    return district in regions().get(province, {}).get(city, [])
