"""What every service call needs: the ports (`Deps`) and who is asking (`Request`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..adapters.store import Store, UnitOfWork
from ..domain.audit import GENESIS, AuditRecord, FieldChange
from ..domain.auth import Principal
from ..domain.errors import DomainError, VersionConflict
from ..domain.events import EventData, envelope
from ..ports.blobs import BlobStore
from ..ports.clock import Clock, Ids
from ..ports.mail import MailSender
from ..ports.scheduler import Scheduler, Timer
from ..ports.webhooks import WebhookSender
from ..settings import Settings


class Metrics(Protocol):
    def add(self, name: str, value: float, unit: str = "Count") -> None: ...


class NoMetrics:
    def add(self, name: str, value: float, unit: str = "Count") -> None:
        return None


@dataclass
class Deps:
    store: Store
    clock: Clock
    ids: Ids
    settings: Settings
    metrics: Metrics = field(default_factory=NoMetrics)
    blobs: BlobStore | None = None  # attachments; bootstrap always provides one
    scheduler: Scheduler | None = None  # timers; bootstrap always provides one
    webhooks: WebhookSender | None = None  # rules' outgoing webhooks; bootstrap always provides one
    # Staff notifications by email; a factory, so that functions which never send build no client.
    mail: Callable[[], MailSender] | None = None


@dataclass(frozen=True)
class Request:
    principal: Principal
    request_id: str = "local"
    correlation_id: str = ""

    @property
    def correlation(self) -> str:
        return self.correlation_id or self.request_id


class Change:
    """One command's writes: state, audit records and events, committed together."""

    def __init__(self, deps: Deps, request: Request) -> None:
        self.deps = deps
        self.request = request
        self.now: datetime = deps.clock.now()
        self.uow: UnitOfWork = deps.store.begin()
        self.metrics: list[tuple[str, float, str]] = []
        self._after_commit: list[Callable[[], None]] = []

    def new_id(self, at: datetime | None = None) -> str:
        return self.deps.ids.new(at)

    def emit(self, data: EventData, subject: str) -> None:
        event = envelope(
            data,
            event_id=self.new_id(self.now),
            source=self.deps.settings.event_source,
            time=self.now,
            subject=subject,
            correlation_id=self.request.correlation,
        )
        self.uow.publish(event)

    def audit(
        self,
        target_type: str,
        target_id: str,
        action: str,
        changes: dict[str, FieldChange],
        *,
        new_target: bool = False,
    ) -> None:
        pending = self.uow.pending_audit_head(target_type, target_id)
        if pending is not None:
            seq, head = pending
        elif new_target:
            seq, head = 0, ""
        else:
            seq, head = self.deps.store.audit_head(target_type, target_id)
        record = AuditRecord(
            id=self.new_id(self.now),
            seq=seq + 1,
            target_type=target_type,
            target_id=target_id,
            actor_id=self.request.principal.actor_id,
            actor_role=self.request.principal.role.value,
            action=action,
            changes=changes,
            request_id=self.request.request_id,
            time=self.now,
            prev_hash=head or GENESIS,
        ).sealed()
        self.uow.append_audit(
            record,
            lambda: VersionConflict(f"the {target_type} changed while this request ran; try again"),
        )

    def count_metric(self, name: str, value: float = 1, unit: str = "Count") -> None:
        self.metrics.append((name, value, unit))

    def set_timer(self, timer: Timer) -> None:
        """Set (or replace) a timer in this change: it exists once the change commits, not if it fails."""
        if self.deps.scheduler is None:
            raise RuntimeError("the platform was built without a scheduler")
        staged = self.deps.scheduler.stage(timer)
        for write in staged.writes:
            self.uow.add(write)
        self._after_commit.append(staged.start)

    def commit(self) -> None:
        self.uow.commit()
        for name, value, unit in self.metrics:
            self.deps.metrics.add(name, value, unit)
        for start in self._after_commit:
            start()


def retrying(attempts: int, command: Callable[[], Any]) -> Any:
    """Re-run a command whose writes lost a race (another request changed the same thing first).

    Only for commands that re-read their state and do not carry the caller's version — a caller who sent
    If-Match gets the conflict instead.
    """
    for attempt in range(attempts):
        try:
            return command()
        except VersionConflict:
            if attempt == attempts - 1:
                raise
    raise DomainError("unreachable")
