"""The local pusher: the open WebSockets of the local gateway, fed from any thread.

WebSockets live in the server's asyncio loop; pushes come from the outbox dispatcher's thread. `push` never
waits for a client: it hands the message to the loop (`call_soon_threadsafe`) and returns. In the loop
each connection has a bounded queue and one task that writes it out in order. A client that falls
`queue_size` messages behind is dropped (closed with 1013, "try again later"), so one slow browser can
neither hold up the dispatcher nor make the hub buffer without bound; on reconnecting it reloads what it
shows, as it does after any gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ...ports.connections import Pusher

OVERFLOW_CLOSE_CODE = 1013
DEFAULT_QUEUE_SIZE = 1024  # notices (about 0.5 KB each): a bulk update of a thousand cases still fits

Send = Callable[[str], Awaitable[None]]
Close = Callable[[int], Awaitable[None]]


@dataclass
class _Client:
    connection_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str]
    send: Send
    close: Close
    dropped: bool = False
    writer: asyncio.Task[None] | None = field(default=None, repr=False)


class WebSocketHub(Pusher):
    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self.dropped_slow = 0
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    # --- called in the event loop -------------------------------------------------------------------------
    def attach(self, connection_id: str, send: Send, close: Close) -> None:
        """Start delivering to a connection; `send` writes one text frame, `close` closes with a code."""
        loop = asyncio.get_running_loop()
        client = _Client(connection_id, loop, asyncio.Queue(self.queue_size), send, close)
        client.writer = loop.create_task(self._write(client), name=f"ws-writer-{connection_id}")
        with self._lock:
            self._clients[connection_id] = client

    async def detach(self, connection_id: str) -> None:
        with self._lock:
            client = self._clients.pop(connection_id, None)
        if client is not None and client.writer is not None:
            client.dropped = True
            client.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await client.writer

    async def flush(self, connection_id: str) -> None:
        """Wait until everything queued for a connection so far has been written (tests, shutdown)."""
        with self._lock:
            client = self._clients.get(connection_id)
        if client is not None:
            await client.queue.join()

    async def _write(self, client: _Client) -> None:
        while True:
            payload = await client.queue.get()
            try:
                await client.send(payload)
            except Exception:
                # The socket is closing; its receive loop sees the disconnect and detaches it.
                self._discard(client)
                return
            finally:
                client.queue.task_done()

    def _enqueue(self, client: _Client, payload: str) -> None:
        if client.dropped:
            return
        try:
            client.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self._discard(client)
            self.dropped_slow += 1
            if client.writer is not None:
                client.writer.cancel()
            client.loop.create_task(client.close(OVERFLOW_CLOSE_CODE))

    def _discard(self, client: _Client) -> None:
        client.dropped = True
        with self._lock:
            if self._clients.get(client.connection_id) is client:
                del self._clients[client.connection_id]

    # --- called from any thread -----------------------------------------------------------------------------
    def push(self, connection_id: str, payload: bytes) -> bool:
        with self._lock:
            client = self._clients.get(connection_id)
        if client is None or client.dropped:
            return False
        try:
            client.loop.call_soon_threadsafe(self._enqueue, client, payload.decode())
        except RuntimeError:  # the loop has shut down: the connection went with it
            return False
        return True

    def connection_ids(self) -> list[str]:
        with self._lock:
            return list(self._clients)
