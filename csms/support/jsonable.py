"""Values as a JSON column and the API can hold them: times as ISO 8601 UTC strings, decimals
as strings (money is never a float), dataclasses and enums by value."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from csms.domain.timeutil import ocpp_time


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return ocpp_time(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, float) and value != value:  # NaN has no JSON form
        return None
    return value
