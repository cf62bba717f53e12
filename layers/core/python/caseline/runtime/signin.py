"""Local sign-in for the SPAs (local runtime only; in AWS, Cognito's hosted UI does this).

`GET /auth/dev-users` lists the people `caseline dev` can sign in as, `POST /auth/dev-login` {"email"}
returns a local JWT for one of them, and `GET /config.json` tells the SPA where the API and the
live-updates socket are and how to sign in — the same document the AWS web stack deploys next to the SPA.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..api.problems import PROBLEM_BASE, PROBLEM_JSON

if TYPE_CHECKING:
    from .server import DevLogin

DEV_LOGIN_LIFETIME_SECONDS = 24 * 3600


class DevLoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=254)


class LocalSignIn:
    def __init__(self, logins: Callable[[], list[DevLogin]], issue: Callable[[DevLogin, int], str], *,
                 ws_path: str = "/ws", default_locale: str = "en") -> None:
        self.logins = logins
        self.issue = issue
        self.ws_path = ws_path
        self.default_locale = default_locale

    def routes(self) -> list[Route]:
        return [
            Route("/auth/dev-users", self.dev_users, methods=["GET"]),
            Route("/auth/dev-login", self.dev_login, methods=["POST"]),
            Route("/config.json", self.config, methods=["GET"]),
        ]

    async def dev_users(self, request: Request) -> Response:
        items = [{"email": login.email, "name": login.name, "role": login.role.value} for login in self.logins()]
        return JSONResponse({"items": items})

    async def dev_login(self, request: Request) -> Response:
        try:
            body: Any = json.loads(await request.body())
        except ValueError as exc:
            return _problem(400, "malformed-json", "Bad Request", f"the body is not valid JSON: {exc}")
        try:
            wanted = DevLoginRequest.model_validate(body)
        except ValidationError as exc:
            fields = [{"field": ".".join(["body", *map(str, e["loc"])]), "message": e["msg"], "type": e["type"]}
                      for e in exc.errors()]
            return _problem(422, "validation-failed", "Unprocessable Content", 'send {"email": "..."}', errors=fields)
        email = wanted.email.strip().casefold()
        login = next((candidate for candidate in self.logins() if candidate.email.casefold() == email), None)
        if login is None:
            return _problem(404, "not-found", "Not Found", f"no dev user with the email {wanted.email}")
        token = self.issue(login, DEV_LOGIN_LIFETIME_SECONDS)
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        return JSONResponse({"token": token,
                             "expires_at": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})

    async def config(self, request: Request) -> Response:
        scheme = "wss" if request.url.scheme == "https" else "ws"
        host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        return JSONResponse({
            "api_base": "",
            "ws_url": f"{scheme}://{host}{self.ws_path}",
            "auth": {"mode": "local"},
            "default_locale": self.default_locale,
        }, headers={"Cache-Control": "no-store"})


def _problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM_JSON)
