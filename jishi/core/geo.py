"""Great-circle distances and bounding boxes: nearest-first search in plain SQL on any database.

No geo extension: a query filters on a latitude/longitude box that surely holds every point
within the radius (two range conditions an ordinary index serves), and the exact distance of
the few rows left is computed here, or in SQL by :func:`within` when the database must order
and page them (the same haversine: Django gives SQLite SIN/COS/ASIN/SQRT/RADIANS). Distances
are whole metres, rounded, so a point placed exactly at a radius is inside it on every platform.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
_MAX_LAT = 89.9


@dataclass(frozen=True)
class Box:
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float

    def q(self, lat_field: str = "latitude", lng_field: str = "longitude") -> Q:
        """The box as a filter. Boxes crossing the antimeridian are split into two ranges."""
        lat = Q(**{f"{lat_field}__gte": self.min_lat, f"{lat_field}__lte": self.max_lat})
        if self.min_lng < -180:
            lng = Q(**{f"{lng_field}__gte": self.min_lng + 360}) | Q(**{f"{lng_field}__lte": self.max_lng})
        elif self.max_lng > 180:
            lng = Q(**{f"{lng_field}__gte": self.min_lng}) | Q(**{f"{lng_field}__lte": self.max_lng - 360})
        else:
            lng = Q(**{f"{lng_field}__gte": self.min_lng, f"{lng_field}__lte": self.max_lng})
        return lat & lng


def valid_point(lat: float, lng: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0 and math.isfinite(lat) and math.isfinite(lng)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> int:
    """Haversine great-circle distance in whole metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h))))


def bounding_box(lat: float, lng: float, radius_m: float) -> Box:
    """A box holding every point within ``radius_m`` (a little larger, never smaller)."""
    dlat = math.degrees((radius_m + 1) / EARTH_RADIUS_M)
    # Longitude degrees shrink with latitude; use the box edge nearest the pole (widest spread).
    edge = min(_MAX_LAT, abs(lat) + dlat)
    dlng = min(180.0, dlat / math.cos(math.radians(edge)))
    return Box(lat - dlat, lat + dlat, lng - dlng, lng + dlng)


def distance_expression(
    lat: float, lng: float, lat_field: str = "latitude", lng_field: str = "longitude"
) -> CombinedExpression:
    """SQL: the haversine distance in metres (unrounded) from (lat, lng) to each row, the twin of
    :func:`distance_m`."""
    lat0, lng0 = Value(lat, output_field=FloatField()), Value(lng, output_field=FloatField())
    half_dlat = (Radians(F(lat_field)) - Radians(lat0)) / Value(2.0)
    half_dlng = (Radians(F(lng_field)) - Radians(lng0)) / Value(2.0)
    h = Power(Sin(half_dlat), 2) + Cos(Radians(lat0)) * Cos(Radians(F(lat_field))) * Power(Sin(half_dlng), 2)
    return Value(2 * EARTH_RADIUS_M, output_field=FloatField()) * ASin(Sqrt(h))


def within(
    rows: QuerySet, lat: float, lng: float, radius_m: float, lat_field: str = "latitude", lng_field: str = "longitude"
) -> QuerySet:
    """``rows`` within ``radius_m`` of (lat, lng), annotated ``distance_m`` (metres, unrounded),
    nearest first, for pages that the database orders and slices. The box narrows by index; a
    row whose rounded distance is the radius is inside, as with :func:`distance_m`."""
    box = bounding_box(lat, lng, radius_m)
    return (
        rows.filter(box.q(lat_field, lng_field))
        .annotate(distance_m=distance_expression(lat, lng, lat_field, lng_field))
        .filter(distance_m__lt=radius_m + 0.5)
        .order_by("distance_m", "pk")
    )


def within_own_reach(
    lat: float,
    lng: float,
    max_radius_m: float,
    reach_field: str,
    lat_field: str = "latitude",
    lng_field: str = "longitude",
) -> Q:
    """Rows whose own radius (``reach_field``, metres) may reach (lat, lng): each row's box, in SQL.

    Used beside ``bounding_box(lat, lng, max_radius_m).q()`` (which an index serves) so that only
    rows that can cover the point come back. Conservative: never drops a row within reach."""
    box = bounding_box(lat, lng, max_radius_m)
    if box.min_lng < -180 or box.max_lng > 180:
        return Q()  # across the antimeridian the plain box is enough
    k_lat = math.degrees(1 / EARTH_RADIUS_M)
    edge = min(_MAX_LAT, abs(lat) + math.degrees((max_radius_m + 1) / EARTH_RADIUS_M))
    k_lng = k_lat / math.cos(math.radians(edge))
    reach = F(reach_field) + Value(1.0, output_field=FloatField())
    return Q(
        **{
            f"{lat_field}__gte": Value(lat, output_field=FloatField()) - reach * k_lat,
            f"{lat_field}__lte": Value(lat, output_field=FloatField()) + reach * k_lat,
            f"{lng_field}__gte": Value(lng, output_field=FloatField()) - reach * k_lng,
            f"{lng_field}__lte": Value(lng, output_field=FloatField()) + reach * k_lng,
        }
    )


def metre_degrees(lat: float, max_radius_m: float) -> tuple[float, float]:
    """Degrees of latitude and of longitude per metre, the longitude one taken at the edge of the
    ``max_radius_m`` box nearest the pole (the widest): a box built with them never falls short."""
    k_lat = math.degrees(1 / EARTH_RADIUS_M)
    edge = min(_MAX_LAT, abs(lat) + math.degrees((max_radius_m + 1) / EARTH_RADIUS_M))
    return k_lat, k_lat / math.cos(math.radians(edge))


def destination(lat: float, lng: float, bearing_deg: float, meters: float) -> tuple[float, float]:
    """The point ``meters`` away on the great circle leaving at ``bearing_deg`` (0 = north)."""
    d = meters / EARTH_RADIUS_M
    b = math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lng)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


def in_polygon(lat: float, lng: float, polygon: Sequence[Sequence[float]]) -> bool:
    """Ray casting over ``[[lat, lng], ...]`` (a city-sized area: planar is exact enough)."""
    inside = False
    n = len(polygon)
    for i in range(n):
        (a_lat, a_lng), (b_lat, b_lng) = polygon[i][:2], polygon[i - 1][:2]
        if (a_lat > lat) != (b_lat > lat):
            cross = (b_lng - a_lng) * (lat - a_lat) / (b_lat - a_lat) + a_lng
            if lng < cross:
                inside = not inside
    return inside


def polygon_reach_m(lat: float, lng: float, polygon: Sequence[Sequence[float]]) -> int:
    """The farthest vertex from (lat, lng): the radius a polygon area needs in a box search."""
    return max((distance_m(lat, lng, p[0], p[1]) for p in polygon), default=0)
