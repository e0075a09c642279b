"""Distances on the Earth for station search: great-circle (haversine) distance in km.

The haversine formula on a sphere of the mean Earth radius is off by at most about 0.5 % against
the ellipsoid, which is far below what "a charger within 5 km" needs, and it is cheap enough to
run over every station of a network on each search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


@dataclass(frozen=True, slots=True)
class Position:
    latitude: float  # degrees, -90..90
    longitude: float  # degrees, -180..180

    def __post_init__(self) -> None:
        if not -90.0 <= self.latitude <= 90.0:
            raise ValueError(f"latitude {self.latitude} is not within -90..90")
        if not -180.0 <= self.longitude <= 180.0:
            raise ValueError(f"longitude {self.longitude} is not within -180..180")


def distance_km(a: Position, b: Position) -> float:
    """Great-circle distance between two positions, in kilometres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    # min(): rounding can push h a hair above 1 for antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))
