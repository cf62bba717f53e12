"""The local API gateway: HTTP in, API Gateway REST proxy events to the same Lambda handlers, HTTP out.

It plays the parts API Gateway and the Cognito authorizer play in AWS: it routes by the catalog that the
CDK app also uses, refuses oversized bodies, verifies the bearer token and puts its claims where the
authorizer would (`requestContext.authorizer.claims`).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..api.catalog import API_FUNCTIONS, function_for_path
from ..api.problems import PROBLEM_BASE, PROBLEM_JSON
from .tokens import LocalTokens

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
SPA_HOME = "/desk/views/mine"
SPA_ROUTES = ("/desk/", "/sign-in")  # the agent SPA's client-side routes; never API roots


@dataclass
class LocalLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:caseline"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def load_handler(functions_dir: Path, name: str) -> Handler:
    """Import functions/<name>/handler.py as AWS would (each function is its own module)."""
    path = functions_dir / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"caseline_functions.{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.lambda_handler


def problem(status: int, slug: str, title: str, detail: str, **headers: str) -> Response:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


class LocalGateway:
    def __init__(
        self,
        *,
        functions_dir: Path,
        tokens: LocalTokens,
        max_body_bytes: int,
        openapi: Callable[[], dict[str, Any]],
        swagger_html: Callable[[], str],
        metrics: Callable[[], dict[str, Any]],
        spa_dir: Path | None = None,
        on_request_done: Callable[[], None] | None = None,
        extra_routes: list[Route] | None = None,
        threads: int = 2,
    ) -> None:
        self.tokens = tokens
        self.max_body_bytes = max_body_bytes
        self.handlers = {f.name: load_handler(functions_dir, f.name) for f in API_FUNCTIONS}
        # Lambda hands an instance one event at a time, and the resolver in each handler module keeps the
        # current event, route and route arguments on itself: so one request per function at a time here too.
        self._instance_locks = {name: threading.Lock() for name in self.handlers}
        self.openapi = openapi
        self.swagger_html = swagger_html
        self.metrics = metrics
        self.spa_dir = spa_dir if spa_dir and (spa_dir / "index.html").exists() else None
        self.on_request_done = on_request_done
        self.extra_routes = extra_routes or []
        # How many handler calls run at once in this process (Starlette's default pool allows 40). Handlers are
        # Python under one GIL: with 50 clients, 25 threads per process only took turns, and the switching
        # cost CPU and doubled the tail latency. More than one lets a call go on while another waits on disk.
        self.threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    # --- the API -------------------------------------------------------------------------------------------
    async def api(self, request: Request) -> Response:
        function = function_for_path(request.url.path)
        if function is None:
            return problem(404, "no-such-route", "Not Found", f"no route {request.url.path}")
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        claims: dict[str, Any] | None = None
        if not function.public:
            claims = self._claims(request)
            if isinstance(claims, Response):
                return claims
        event = self._event(request, body, claims)
        context = LocalLambdaContext(function_name=function.name, aws_request_id=event["requestContext"]["requestId"])
        if self._limiter is None:  # made on the event loop that serves
            self._limiter = anyio.CapacityLimiter(self.threads)
        result = await anyio.to_thread.run_sync(self._invoke, function.name, event, context, limiter=self._limiter)
        if self.on_request_done is not None and request.method != "GET":
            self.on_request_done()
        return self._response(result)

    def _invoke(self, name: str, event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
        with self._instance_locks[name]:
            return self.handlers[name](event, context)

    async def _read_body(self, request: Request) -> bytes | Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            return self._too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                return self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> Response:
        return problem(413, "payload-too-large", "Content Too Large",
                       f"the body is larger than {self.max_body_bytes} bytes")

    def _claims(self, request: Request) -> dict[str, Any] | Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        unauthorized = {"WWW-Authenticate": 'Bearer realm="caseline"'}
        if scheme.lower() != "bearer" or not token:
            return problem(401, "unauthenticated", "Unauthorized", "send Authorization: Bearer <token>",
                           **unauthorized)
        try:
            return self.tokens.verify(token.strip())
        except jwt.InvalidTokenError as exc:
            return problem(401, "unauthenticated", "Unauthorized", f"invalid token: {exc}", **unauthorized)

    @staticmethod
    def _event(request: Request, body: bytes, claims: dict[str, Any] | None) -> dict[str, Any]:
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            multi_query.setdefault(name, []).append(value)
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        path = request.url.path
        authorizer = None
        if claims:
            # API Gateway hands Cognito claims to the function as strings; groups as one string too.
            groups = claims.get("cognito:groups")
            flat = {k: v for k, v in claims.items() if k != "cognito:groups"}
            if isinstance(groups, list):
                flat["cognito:groups"] = ",".join(groups)
            authorizer = {"claims": flat}
        return {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": request.method,
            "headers": {k: v[-1] for k, v in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": {"proxy": path.lstrip("/")},
            "stageVariables": None,
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "stage": "local",
                "httpMethod": request.method,
                "path": path,
                "resourcePath": "/{proxy+}",
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": request.client.host if request.client else "127.0.0.1"},
                "authorizer": authorizer,
            },
            "body": text if body else None,
            "isBase64Encoded": encoded,
        }

    @staticmethod
    def _response(result: dict[str, Any]) -> Response:
        body = result.get("body") or ""
        content = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(content=content, status_code=int(result["statusCode"]))
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            if name.lower() in ("set-cookie",):
                for value in values:
                    response.headers.append(name, str(value))
            elif values:
                response.headers[name] = ", ".join(str(v) for v in values)
        return response

    # --- everything else -------------------------------------------------------------------------------------
    async def openapi_json(self, request: Request) -> Response:
        return JSONResponse(self.openapi())

    async def docs(self, request: Request) -> Response:
        return HTMLResponse(self.swagger_html())

    async def metrics_page(self, request: Request) -> Response:
        return JSONResponse(self.metrics())

    async def home(self, request: Request) -> Response:
        if self.spa_dir is not None:
            return RedirectResponse(SPA_HOME, status_code=302)
        return HTMLResponse(LANDING)

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        routes: list[Route | Mount] = [
            Route("/api/openapi.json", self.openapi_json),
            Route("/api/docs", self.docs),
            Route("/metrics", self.metrics_page),
            *self.extra_routes,
        ]
        for root in sorted({r for f in API_FUNCTIONS for r in f.roots}):
            routes.append(Route(f"/{root}", self.api, methods=methods))
            routes.append(Route(f"/{root}/{{rest:path}}", self.api, methods=methods))
        if self.spa_dir is not None and (self.spa_dir / "assets").exists():
            routes.append(Mount("/assets", StaticFiles(directory=self.spa_dir / "assets")))
        routes.append(Route("/", self.home))
        routes.append(Route("/{rest:path}", self.fallback, methods=methods))
        # Starlette's path patterns do not match every character (a decoded newline, say); whatever they
        # miss still gets API Gateway's treatment instead of a bare text 404.
        return Starlette(routes=routes, exception_handlers={404: self._unrouted})

    async def _unrouted(self, request: Request, exc: Exception) -> Response:
        if function_for_path(request.url.path) is not None:
            return await self.api(request)
        return await self.fallback(request)

    async def fallback(self, request: Request) -> Response:
        if request.method in ("GET", "HEAD") and self.spa_dir is not None:
            static = self._spa_file(request.url.path)
            if static is not None:
                return FileResponse(static)  # favicon, locales and other files Vite copies to dist/
            path = request.url.path
            if path.startswith(SPA_ROUTES) or "text/html" in request.headers.get("accept", ""):
                return FileResponse(self.spa_dir / "index.html")  # SPA deep links
        return problem(404, "no-such-route", "Not Found", f"no route {request.url.path}")

    def _spa_file(self, path: str) -> Path | None:
        """A file of the built SPA, never a path that leads out of its folder."""
        assert self.spa_dir is not None
        relative = path.lstrip("/")
        if not relative:
            return None
        root = self.spa_dir.resolve()
        candidate = (root / relative).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file() or candidate.name == "index.html":
            return None
        return candidate


LANDING = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Caseline</title></head>
<body><main><h1>Caseline is running</h1><ul>
<li><a href="/api/docs">API documentation (Swagger UI)</a></li>
<li><a href="/api/openapi.json">OpenAPI document</a></li>
<li><a href="/health">Health</a></li><li><a href="/metrics">Metrics</a></li>
</ul></main></body></html>"""

