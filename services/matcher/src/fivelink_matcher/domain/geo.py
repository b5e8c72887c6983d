"""Great-circle distance between approximate community coordinates."""

from __future__ import annotations

import math

from fivelink_shared.events import GeoPoint

EARTH_RADIUS_KM = 6371.0088


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km between two (lat, lon) points in degrees (haversine formula)."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Distance in km between two points on the Earth."""
    return haversine(a.lat, a.lon, b.lat, b.lon)
