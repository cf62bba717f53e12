"""Identifier types, defined once.

Ids are ULIDs: 26 Crockford base32 characters, sortable by creation time, so "newest first" is a plain
descending sort on the id. Human case numbers (`#10234`) come from an atomic counter in the store.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"

Ulid = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]
CaseId = Ulid
CustomerId = Ulid
OrganizationId = Ulid
AgentId = Ulid
TeamId = Ulid
InteractionId = Ulid
EntryId = Ulid
EventId = Ulid
# Ids of other systems (CRM, billing, ...) are opaque strings that we store, never parse.
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Email = Annotated[
    str,
    StringConstraints(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254, strip_whitespace=True, to_lower=True
    ),
]
# E.164 phone numbers: '+', country code, subscriber number; 8-15 digits in all.
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{7,14}$")]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-:.]{0,49}$", to_lower=True)]
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


def format_case_number(number: int) -> str:
    return f"#{number}"


def parse_case_number(text: str) -> int | None:
    digits = text.removeprefix("#")
    return int(digits) if digits.isdigit() else None
