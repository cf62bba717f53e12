"""HTTP details shared by the routers: ETags, If-Match, Location, pagination parameters."""

from __future__ import annotations

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import BaseModel, ConfigDict, Field

from ..domain.errors import VersionConflict

_ETAG = re.compile(r'^(?:W/)?"(\d{1,12})"$')

Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Cursor = Annotated[
    str | None,
    Query(max_length=2048, pattern=r"^[A-Za-z0-9_\-]+$", description="`next_cursor` of the previous page"),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=64, description='the ETag you read, e.g. "3"; stale → 412'),
]


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version the caller last saw. A value we never issued cannot match anything: 412."""
    if if_match is None:
        return None
    match = _ETAG.match(if_match.strip())
    if not match:
        raise VersionConflict("If-Match must be an ETag this API returned, like \"3\"")
    return int(match.group(1))


def with_etag(body: BaseModel, version: int, *, status: int = 200, location: str | None = None) -> Response:
    headers = {"ETag": etag(version)}
    if location:
        headers["Location"] = location
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def created(body: BaseModel, location: str, **headers: str) -> Response:
    return Response(status_code=201, content_type="application/json", body=body,
                    headers={"Location": location, **headers})


class PageOf(BaseModel):
    model_config = ConfigDict(defer_build=True)

    next_cursor: str | None = Field(default=None, description="pass as `cursor` for the next page")


def page_fields(items: list[Any], cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": cursor}
