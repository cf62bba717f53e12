"""On one machine, the outbox dispatcher stands in for DynamoDB Streams + EventBridge + its rules.

It reads the embedded table's stream from a stored checkpoint, turns each new outbox item into an event
envelope and calls every consumer that wants it. Like a stream shard, it moves on only when every
consumer has either handled the event or given up on it: a failing consumer is retried with exponential
backoff and, after `max_attempts`, its event goes to the dead-letter list (`caseline events dead-letters`),
from where it can be replayed. Consumers are idempotent by event id: a marker per (consumer, event) is
written after success, so a crash between handling and checkpointing does not run a consumer twice. A
consumer that is idempotent by itself (`Consumer.marker` False: it re-reads what it acts on, as it must
behind EventBridge) gets no marker; running it again after such a crash changes nothing.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from aws_lambda_powertools import Logger

from ...consumers import Consumer
from ...domain.events import EventEnvelope
from ...services.context import Deps
from ...services.publishing import NotAnOutboxItem, envelope_from_item
from ..store import DeadLetter
from .sqlite_table import SqliteTable

logger = Logger(service="outbox-dispatcher")
CHECKPOINT = "outbox-dispatcher"
MARKER_TTL_SECONDS = 7 * 86_400


@dataclass
class DispatchStats:
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    skipped_duplicates: int = 0
    last_seq: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


class OutboxDispatcher:
    def __init__(
        self,
        table: SqliteTable,
        deps: Deps,
        consumers: Sequence[Consumer],
        *,
        max_attempts: int = 5,
        base_delay: float = 0.05,
        archive: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        partitions: int = 1,
    ) -> None:
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        self.table = table
        self.deps = deps
        self.consumers = list(consumers)
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.archive = archive
        self.sleep = sleep
        self.stats = DispatchStats()
        self.partitions = partitions
        self._pool: ThreadPoolExecutor | None = None
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one pass -----------------------------------------------------------------------------------------
    def drain(self, batch: int = 200, *, until_stopped: bool = False) -> int:
        """Deliver everything committed so far; returns how many events were dispatched.

        `until_stopped`: the background thread's pass, which ends early once `stop()` is called; the rest
        waits in the stream for the next start.
        """
        total = 0
        while True:
            after = self.table.checkpoint(CHECKPOINT)
            records = self.table.read_stream(after, batch)
            if not records:
                return total
            events: list[EventEnvelope] = []
            for record in records:
                if record.event_name == "INSERT" and record.new_image is not None:
                    try:
                        events.append(envelope_from_item(record.new_image))
                    except (NotAnOutboxItem, ValueError) as exc:
                        logger.error("unreadable outbox record", seq=record.seq, error=str(exc))
            stop = self._stop if until_stopped else None
            if not self._dispatch_all(events, stop):
                return total  # stopped: the rest of the batch waits in the stream for the next start
            total += len(events)
            # One checkpoint write per batch, not per event (each is a write transaction). After a crash the
            # batch's handled events are read again; every consumer is idempotent, by its own design or
            # through its marker, as behind EventBridge's at-least-once delivery.
            done = self.stats.last_seq = records[-1].seq
            self.table.advance_stream(CHECKPOINT, done)

    def _dispatch_all(self, events: list[EventEnvelope], stop: threading.Event | None) -> bool:
        """Every event of a batch; False if `stop` was set before all were handled.

        With `partitions` > 1 the batch is split by subject (a case's events stay in order, on one thread)
        and the parts run on that many threads. Most of a consumer's time is spent waiting: for the write
        lock the serving processes also take, and in SQLite calls that release the GIL; one thread left the
        core idle meanwhile, and under load the consumers fell seconds behind the requests.
        """
        for event in events:
            self._archive(event)
        if self.partitions == 1 or len(events) < 2:
            return self._dispatch_in_order(events, stop)
        parts: list[list[EventEnvelope]] = [[] for _ in range(self.partitions)]
        for event in events:
            parts[zlib.crc32(event.subject.encode()) % self.partitions].append(event)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.partitions, thread_name_prefix="outbox-partition")
        results = [self._pool.submit(self._dispatch_in_order, part, stop) for part in parts if part]
        wait(results)  # every part ends before an error of one is raised
        return all([result.result() for result in results])  # noqa: C419 - result() of each, for its error

    def _dispatch_in_order(self, events: list[EventEnvelope], stop: threading.Event | None) -> bool:
        for event in events:
            if stop is not None and stop.is_set():
                return False
            self._dispatch(event)
        return True

    def _dispatch(self, event: EventEnvelope) -> None:
        self._count("by_type", event.type)
        for consumer in self.consumers:
            if consumer.wants(event):
                self.deliver(consumer, event)

    def deliver(self, consumer: Consumer, event: EventEnvelope) -> bool:
        """Run one consumer on one event with retries; True if it was handled (now or before)."""
        store = self.deps.store
        if consumer.marker and store.was_consumed(consumer.name, event.id):
            self._count("skipped_duplicates")
            return True
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                consumer.handle(self.deps, event)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                logger.warning("consumer failed", consumer=consumer.name, event_id=event.id, attempt=attempt,
                               error=error)
                if attempt < self.max_attempts:
                    self._count("retried")
                    self.sleep(self.base_delay * 2 ** (attempt - 1))
                continue
            if consumer.marker:
                store.mark_consumed(consumer.name, event.id, ttl_seconds=MARKER_TTL_SECONDS)
            self._count("delivered")
            return True
        if consumer.give_up is not None:
            try:
                consumer.give_up(self.deps, event, error)
            except Exception:
                logger.exception("give-up hook failed", consumer=consumer.name, event_id=event.id)
        store.put_dead_letter(consumer.name, event, error, self.max_attempts)
        self._count("dead_lettered")
        logger.error("dead-lettered", consumer=consumer.name, event_id=event.id, error=error)
        return False

    def _count(self, figure: str, event_type: str | None = None) -> None:
        with self._stats_lock:  # partitions count from several threads
            if event_type is not None:
                self.stats.by_type[event_type] = self.stats.by_type.get(event_type, 0) + 1
            else:
                setattr(self.stats, figure, getattr(self.stats, figure) + 1)

    def replay(self, consumer_name: str, event_id: str) -> bool:
        """Run a dead letter's consumer again; on success the dead letter is removed."""
        consumer = next((c for c in self.consumers if c.name == consumer_name), None)
        if consumer is None:
            raise KeyError(f"no consumer named {consumer_name}")
        letter = next(
            (d for d in self.dead_letters() if d.consumer == consumer_name and d.event.id == event_id), None
        )
        if letter is None:
            raise KeyError(f"no dead letter for {consumer_name} / {event_id}")
        if self.deliver(consumer, letter.event):
            self.deps.store.remove_dead_letter(consumer_name, event_id)
            return True
        return False

    def dead_letters(self) -> Iterator[DeadLetter]:
        cursor = None
        while True:
            page = self.deps.store.dead_letters(limit=100, cursor=cursor)
            yield from page.items
            if not page.cursor:
                return
            cursor = page.cursor

    def _archive(self, event: EventEnvelope) -> None:
        """The local stand-in for the EventBridge archive: one JSON line per event."""
        if self.archive is None:
            return
        with self.archive.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"detail-type": event.type, "detail": event.model_dump(mode="json")}) + "\n")

    # --- background thread ----------------------------------------------------------------------------------
    def start(self, interval: float = 0.05) -> None:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.drain(until_stopped=True)
                except Exception:
                    logger.exception("dispatcher pass failed")
                self._wake.wait(interval)
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="outbox-dispatcher", daemon=True)
        self._thread.start()

    def pending(self) -> int:
        """Stream records written but not dispatched yet: how far the consumers are behind."""
        return self.table.stream_pending(CHECKPOINT)

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
