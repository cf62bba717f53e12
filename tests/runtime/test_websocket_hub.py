"""The local hub between the dispatcher's thread and the gateway's event loop: a slow client is dropped,
the others keep their order, and the pushing thread never waits."""

from __future__ import annotations

import asyncio
import threading

from caseline.adapters.embedded.websocket_hub import OVERFLOW_CLOSE_CODE, WebSocketHub

GUARD = 10  # seconds before a stuck test gives up; nothing here measures time


def test_a_client_that_stops_reading_is_dropped_and_the_others_get_everything() -> None:
    async def scenario() -> None:
        hub = WebSocketHub(queue_size=4)
        stuck = asyncio.Event()  # never set: the slow client's socket never drains
        closed: list[int] = []
        dropped = asyncio.Event()
        fast_frames: list[str] = []

        async def slow_send(text: str) -> None:
            await stuck.wait()

        async def slow_close(code: int) -> None:
            closed.append(code)
            dropped.set()

        async def fast_send(text: str) -> None:
            fast_frames.append(text)

        async def fast_close(code: int) -> None:
            raise AssertionError("the fast client must not be closed")

        hub.attach("slow", slow_send, slow_close)
        hub.attach("fast", fast_send, fast_close)
        results: list[bool] = []

        def dispatcher_thread(first: int) -> None:  # pushes from another thread, as the outbox dispatcher does
            results.extend(hub.push(cid, f"{n}".encode()) for n in range(first, first + 3) for cid in ("slow", "fast"))

        for first in range(0, 12, 3):  # four bursts of three; the slow client's backlog passes four in the second
            worker = threading.Thread(target=dispatcher_thread, args=(first,))
            worker.start()
            await asyncio.to_thread(worker.join)  # the pushing thread finishes without waiting for any client
            await asyncio.wait_for(hub.flush("fast"), GUARD)
        assert results.count(False) > 0 and all(results[:6])  # once dropped, pushes to "slow" report it gone
        await asyncio.wait_for(dropped.wait(), GUARD)
        assert closed == [OVERFLOW_CLOSE_CODE] and hub.dropped_slow == 1
        assert hub.push("slow", b"after") is False  # gone: the registry forgets it
        await asyncio.wait_for(hub.flush("fast"), GUARD)
        assert fast_frames == [str(n) for n in range(12)]
        assert hub.connection_ids() == ["fast"]
        await hub.detach("fast")
        assert hub.push("fast", b"x") is False

    asyncio.run(scenario())


def test_a_send_that_fails_drops_the_connection_quietly() -> None:
    async def scenario() -> None:
        hub = WebSocketHub()

        async def broken_send(text: str) -> None:
            raise ConnectionResetError("peer went away")

        async def close(code: int) -> None:
            return None

        hub.attach("broken", broken_send, close)
        assert hub.push("broken", b"one") is True
        await asyncio.wait_for(hub.flush("broken"), GUARD)
        assert hub.push("broken", b"two") is False

    asyncio.run(scenario())
