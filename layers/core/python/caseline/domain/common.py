"""Small value types shared by several aggregates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (e.g. 2026-01-31T09:00:00Z)")
    return value


Timestamp = Annotated[datetime, AfterValidator(_aware)]


def _known_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


TimeZone = Annotated[str, Field(max_length=64, examples=["Europe/Berlin"]), AfterValidator(_known_zone)]


class Model(BaseModel):
    """Base for domain models: unknown fields are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    WEB = "web"
    SOCIAL = "social"
    API = "api"


class Money(Model):
    amount: Decimal = Field(max_digits=14, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])


CustomFieldValue = str | int | float | bool | None
