"""Field types shared by the features' response models (`<feature>/schemas.py`).

The API rendered its times with orjson before it had response models; these types keep those bytes
(`datetime.isoformat()`: `+00:00`, not pydantic's `Z`) while the OpenAPI document says what they are."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

_TIME_SCHEMA = WithJsonSchema({"type": "string", "format": "date-time"})

# A time the service already rendered as text (ISO 8601), passed through untouched.
IsoTime = Annotated[str, _TIME_SCHEMA]

# A datetime rendered as ISO 8601 with `isoformat()`, in JSON and in `model_dump()` alike.
Timestamp = Annotated[datetime, PlainSerializer(lambda v: v.isoformat(), return_type=str), _TIME_SCHEMA]

# A datetime that `model_dump()` keeps as a datetime and JSON writes with `isoformat()`: for a model that is
# also the data of an audit record (approval rules), which has stored its times as `str(datetime)` (the
# canonical JSON's fallback) since its first record, and for pages that format the time themselves.
JsonTimestamp = Annotated[datetime, PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json"),
                          _TIME_SCHEMA]

Day = Annotated[date, PlainSerializer(lambda v: v.isoformat(), return_type=str),
                WithJsonSchema({"type": "string", "format": "date"})]
