"""`/ws` on the local gateway: the live-updates WebSocket, as API Gateway's WebSocket API serves it in AWS.

The token comes as `?token=` (browsers cannot set headers on a WebSocket) and is one of our local JWTs.
The socket is accepted first and then closed with 4401 when the token is missing, invalid or not a
staff member's, so a browser client can read the reason (a refused handshake only shows as an error).
Like API Gateway, the gateway ends a connection after two hours; the client reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import jwt
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketState

from ..adapters.embedded.websocket_hub import WebSocketHub
from ..api.context import principal_from_claims
from ..domain.errors import Forbidden, Unauthenticated
from ..services import realtime
from .tokens import LocalTokens

UNAUTHORIZED_CLOSE_CODE = 4401
GOING_AWAY_CLOSE_CODE = 1001


class LiveSocket:
    def __init__(self, tokens: LocalTokens, live: realtime.LiveUpdates, hub: WebSocketHub, *,
                 max_connection_seconds: int = realtime.CONNECTION_TTL_SECONDS, connection_prefix: str = "") -> None:
        self.tokens = tokens
        self.connection_prefix = connection_prefix  # names the process holding the socket (`workers.py`)
        self.live = live
        self.hub = hub
        self.max_connection_seconds = max_connection_seconds

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        connection_id = self.connection_prefix + uuid.uuid4().hex
        try:
            principal = principal_from_claims(self.tokens.verify(websocket.query_params.get("token", "")))
            self.hub.attach(connection_id, websocket.send_text, lambda code: _close(websocket, code))
            await run_in_threadpool(realtime.open_connection, self.live, principal, connection_id,
                                    now=int(time.time()), ttl_seconds=self.max_connection_seconds)
        except (jwt.InvalidTokenError, Unauthenticated, Forbidden) as exc:
            await self.hub.detach(connection_id)
            reason = exc.detail if isinstance(exc, Unauthenticated | Forbidden) else "invalid token"
            await websocket.close(code=UNAUTHORIZED_CLOSE_CODE, reason=reason[:120])
            return
        expiry = asyncio.get_running_loop().call_later(
            self.max_connection_seconds, lambda: asyncio.ensure_future(_close(websocket, GOING_AWAY_CLOSE_CODE)))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                realtime.answer(self.live, connection_id, message.get("text") or message.get("bytes"))
        finally:
            expiry.cancel()
            await self.hub.detach(connection_id)
            await run_in_threadpool(realtime.close_connection, self.live, connection_id)


async def _close(websocket: WebSocket, code: int) -> None:
    if websocket.application_state is not WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=code)
