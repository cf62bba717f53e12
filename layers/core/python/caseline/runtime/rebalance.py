"""Connections end after a number of requests, so that `caseline dev --workers N` spreads its load.

The kernel hands each new connection to one of the workers listening on the shared port (SO_REUSEPORT picks by
a hash of the addresses), and a client that keeps its connection alive stays with that worker. Ten agents'
browsers, or ten benchmark clients, can land seven on one worker and three on the other; the first worker then
runs a core flat out while the second idles, and stays so as long as the connections live. Like nginx's
`keepalive_requests`, the response to a connection's `requests_per_connection`-th request says
`Connection: close`; the client opens a new connection for its next request, which is a new draw, so the load
evens out within seconds. The price is one TCP handshake per hundred requests.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUESTS_PER_CONNECTION = 100
REMEMBERED_CONNECTIONS = 4096  # counts kept, the least recently used forgotten first


class ConnectionRecycler:
    """ASGI middleware: `Connection: close` on every connection's `requests_per_connection`-th response."""

    def __init__(self, app: App, requests_per_connection: int = REQUESTS_PER_CONNECTION,
                 remembered: int = REMEMBERED_CONNECTIONS) -> None:
        if requests_per_connection < 1:
            raise ValueError("requests_per_connection must be at least 1")
        self.app = app
        self.limit = requests_per_connection
        self.remembered = remembered
        self._counts: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not client:
            await self.app(scope, receive, send)
            return
        # A connection is known by its peer address; the event loop runs one request at a time here.
        key = tuple(client)
        count = self._counts.pop(key, 0) + 1
        if count < self.limit:
            self._counts[key] = count
            if len(self._counts) > self.remembered:
                self._counts.popitem(last=False)
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing)
