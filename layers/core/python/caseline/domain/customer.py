"""Customers and the organizations they belong to."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from .common import Model, Money, Timestamp, TimeZone
from .ids import CustomerId, Email, ExternalId, OrganizationId, Phone


class CustomerTier(StrEnum):
    STANDARD = "standard"
    PREMIUM = "premium"
    VIP = "vip"


# External systems whose ids we keep on a customer, e.g. {"crm": "003xx", "billing": "cus_123"}.
ExternalSystem = str


class Customer(Model):
    id: CustomerId
    name: str = Field(min_length=1, max_length=200)
    emails: list[Email] = Field(default_factory=list, max_length=20)
    bouncing_emails: list[Email] = Field(default_factory=list, max_length=20,
                                         description="addresses whose mail came back as undeliverable")
    email_complaint_at: Timestamp | None = Field(default=None,
                                                 description="when they last reported our mail as spam")
    phones: list[Phone] = Field(default_factory=list, max_length=20)
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    time_zone: TimeZone = "UTC"
    tier: CustomerTier = CustomerTier.STANDARD
    lifetime_value: Money | None = None
    external_ids: dict[ExternalSystem, ExternalId] = Field(default_factory=dict, max_length=20)
    organization_id: OrganizationId | None = None
    created_at: Timestamp
    updated_at: Timestamp
    version: int = Field(default=1, ge=1)

    @field_validator("emails", "phones")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        seen: list[str] = []
        for value in values:
            if value not in seen:
                seen.append(value)
        return seen

    @property
    def primary_email(self) -> str | None:
        return self.emails[0] if self.emails else None


class Organization(Model):
    id: OrganizationId
    name: str = Field(min_length=1, max_length=200)
    domains: list[str] = Field(default_factory=list)
    tier: CustomerTier = CustomerTier.STANDARD
    external_ids: dict[ExternalSystem, ExternalId] = Field(default_factory=dict)
    created_at: Timestamp
