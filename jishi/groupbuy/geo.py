"""Great-circle distance in SQL with a bounding-box prefilter: the same SQL on SQLite and
PostgreSQL (Django registers SIN/COS/ASIN/SQRT/RADIANS on SQLite), no geo extension.

The box (latitude ± radius/111 km, longitude ± radius/(111 km·cos latitude)) lets an index on
(latitude, longitude) discard almost every row; the haversine distance then orders what is left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


@dataclass(frozen=True)
class Box:
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float


def bounding_box(lat: float, lng: float, radius_m: float) -> Box:
    """Every point within ``radius_m`` of (lat, lng) lies inside this box (near the poles: all longitudes)."""
    dlat = radius_m / METRES_PER_DEGREE
    cos_lat = math.cos(math.radians(lat))
    dlng = 180.0 if cos_lat < 1e-6 else min(180.0, dlat / cos_lat)
    return Box(max(-90.0, lat - dlat), min(90.0, lat + dlat), lng - dlng, lng + dlng)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance in metres (the Python twin of :func:`distance_expression`)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_expression(
    lat: float, lng: float, lat_field: str = "latitude", lng_field: str = "longitude"
) -> CombinedExpression:
    """SQL: haversine distance in metres from (lat, lng) to each row's coordinates."""
    lat0, lng0 = Value(lat, output_field=FloatField()), Value(lng, output_field=FloatField())
    half_dlat = (Radians(F(lat_field)) - Radians(lat0)) / Value(2.0)
    half_dlng = (Radians(F(lng_field)) - Radians(lng0)) / Value(2.0)
    h = Power(Sin(half_dlat), 2) + Cos(Radians(lat0)) * Cos(Radians(F(lat_field))) * Power(Sin(half_dlng), 2)
    return Value(2 * EARTH_RADIUS_M, output_field=FloatField()) * ASin(Sqrt(h))


def within(
    rows: QuerySet, lat: float, lng: float, radius_m: float, lat_field: str = "latitude", lng_field: str = "longitude"
) -> QuerySet:
    """``rows`` within ``radius_m`` of (lat, lng), annotated ``distance_m``, nearest first."""
    box = bounding_box(lat, lng, radius_m)
    boxed = rows.filter(
        **{
            f"{lat_field}__gte": box.min_lat,
            f"{lat_field}__lte": box.max_lat,
            f"{lng_field}__gte": box.min_lng,
            f"{lng_field}__lte": box.max_lng,
        }
    )
    return (
        boxed.annotate(distance_m=distance_expression(lat, lng, lat_field, lng_field))
        .filter(distance_m__lte=radius_m)
        .order_by("distance_m", "pk")
    )
