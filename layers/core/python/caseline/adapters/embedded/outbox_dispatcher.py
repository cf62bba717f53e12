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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aws_lambda_powertools import Logger

from ...consumers import Consumer
from ...domain.events import EventEnvelope
from ...ports.table import Item
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
    ) -> None:
        self.table = table
        self.deps = deps
        self.consumers = list(consumers)
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.archive = archive
        self.sleep = sleep
        self.stats = DispatchStats()
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
            done: int | None = None
            try:
                for record in records:
                    if until_stopped and self._stop.is_set():
                        return total
                    if record.event_name == "INSERT" and record.new_image is not None:
                        try:
                            event = self._decode(record.new_image)
                        except (NotAnOutboxItem, ValueError) as exc:
                            logger.error("unreadable outbox record", seq=record.seq, error=str(exc))
                        else:
                            if event is not None:
                                self._dispatch(event)
                            total += 1
                    done = self.stats.last_seq = record.seq
            finally:
                if done is not None:
                    # One write per batch, not per event: the checkpoint, and the stream trimmed behind it.
                    # After a crash the batch's handled events are read again; every consumer is idempotent,
                    # by its own design or through its marker, as behind EventBridge's at-least-once delivery.
                    self.table.advance_stream(CHECKPOINT, done)

    def _decode(self, image: Item) -> EventEnvelope | None:
        """The envelope of an outbox item, counted and archived; None when no consumer wants its type (the
        envelope is then never decoded: `customer.created`, for one, has no local consumer)."""
        event_type = image.get("event_type")
        if image.get("entity") != "outbox" or "data" not in image or not isinstance(event_type, str):
            raise NotAnOutboxItem("the stream record is not an outbox event")
        self.stats.by_type[event_type] = self.stats.by_type.get(event_type, 0) + 1
        self._archive(event_type, image["data"])
        if not any(consumer.wants_type(event_type) for consumer in self.consumers):
            return None
        return envelope_from_item(image)

    def _dispatch(self, event: EventEnvelope) -> None:
        for consumer in self.consumers:
            if consumer.wants(event):
                self.deliver(consumer, event)

    def deliver(self, consumer: Consumer, event: EventEnvelope) -> bool:
        """Run one consumer on one event with retries; True if it was handled (now or before)."""
        store = self.deps.store
        if consumer.marker and store.was_consumed(consumer.name, event.id):
            self.stats.skipped_duplicates += 1
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
                    self.stats.retried += 1
                    self.sleep(self.base_delay * 2 ** (attempt - 1))
                continue
            if consumer.marker:
                store.mark_consumed(consumer.name, event.id, ttl_seconds=MARKER_TTL_SECONDS)
            self.stats.delivered += 1
            return True
        if consumer.give_up is not None:
            try:
                consumer.give_up(self.deps, event, error)
            except Exception:
                logger.exception("give-up hook failed", consumer=consumer.name, event_id=event.id)
        store.put_dead_letter(consumer.name, event, error, self.max_attempts)
        self.stats.dead_lettered += 1
        logger.error("dead-lettered", consumer=consumer.name, event_id=event.id, error=error)
        return False

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

    def _archive(self, event_type: str, envelope_json: str) -> None:
        """The local stand-in for the EventBridge archive: one JSON line per event (the envelope as stored)."""
        if self.archive is None:
            return
        with self.archive.open("a", encoding="utf-8") as out:
            out.write(f'{{"detail-type": {json.dumps(event_type)}, "detail": {envelope_json}}}\n')

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
