"""RFC 9457 problem details: the one shape of every error the API returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://caseline.dev/problems/"


class FieldProblem(BaseModel):
    """One invalid field: where it is (`body.requester.email`), what is wrong, and pydantic's error type."""

    model_config = ConfigDict(defer_build=True)

    field: str
    message: str
    type: str


class Problem(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")

    type: str = Field(examples=[PROBLEM_BASE + "validation-failed"])
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    current_version: int | None = Field(default=None, description="on 412: the version to reload")


def problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"model": Problem}}


def problem_responses(*statuses: int) -> dict[int, Any]:
    """OpenAPI `responses` entries for the errors a route can return."""
    descriptions = {
        400: "Malformed request (bad JSON, bad cursor, bad header)",
        401: "Missing or invalid credentials",
        403: "Not allowed for this role",
        404: "No such resource (or not yours)",
        409: "Conflicts with the current state",
        412: "If-Match does not match the current version; nothing was changed",
        413: "Body larger than the limit",
        415: "The body is not JSON",
        422: "Invalid fields; `errors` names each one",
        428: "This update needs If-Match",
    }
    return {s: {"description": descriptions[s], "content": problem_content()} for s in statuses}


def responses(model: type[BaseModel] | None, *errors: int, status: int = 200, description: str = "OK",
              headers: tuple[str, ...] = ()) -> dict[int, Any]:
    """The route's documented responses: its success body and the problems it can answer with."""
    header_docs = {name: {"description": _HEADER_DOCS[name], "schema": {"type": "string"}} for name in headers}
    success: dict[str, Any] = {"description": description}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    if header_docs:
        success["headers"] = header_docs
    return {status: success, **problem_responses(*errors)}


_HEADER_DOCS = {
    "ETag": "the version to send back in If-Match",
    "Location": "where the new resource lives",
}
