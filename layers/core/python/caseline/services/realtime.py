"""Live updates for the agent workspace: case events become `case.changed` notices on every staff connection.

The same functions run behind API Gateway WebSockets (functions/realtime_connect, realtime_fanout) and in
the local gateway's hub (consumers/realtime.py, runtime/gateway.py). Pushes are not deduplicated: an event
delivered twice is pushed twice, and the client keeps the highest `case.version` it has seen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pydantic import ValidationError

from ..adapters.store import Store
from ..domain.auth import Principal
from ..domain.errors import Forbidden
from ..domain.events import EventEnvelope
from ..domain.notices import CASE_EVENT_PREFIX, CaseChanged, CaseSnapshot, ClientMessage, Pong
from ..ports.connections import ConnectionRegistry, LiveConnection, Pusher, PushFailed

CONNECTION_TTL_SECONDS = 2 * 3600  # API Gateway ends every WebSocket connection after two hours


@dataclass(frozen=True)
class LiveUpdates:
    """The two ports live updates need, as the composition root built them."""

    registry: ConnectionRegistry
    pusher: Pusher


@dataclass
class PushReport:
    delivered: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def is_case_event(event: EventEnvelope) -> bool:
    return event.type.startswith(CASE_EVENT_PREFIX)


def case_changed(store: Store, event: EventEnvelope) -> CaseChanged | None:
    """The notice for one case event (one GetItem), or None when the event is not about a case we have."""
    if not is_case_event(event):
        return None
    case_id = event.data.get("case_id") or event.subject
    case = store.get_case(str(case_id))
    if case is None:
        return None
    return CaseChanged(event_type=event.type, event_id=event.id, case=CaseSnapshot.of(case))


def broadcast(live: LiveUpdates, payload: bytes, *, now: int) -> PushReport:
    """Push to every live staff connection; forget the ones the pusher reports gone.

    A failure on one connection does not stop the others; the report names it so the caller can log it.
    """
    return _push_all(live, live.registry.live_staff(now=now), payload)


def _push_all(live: LiveUpdates, connections: list[LiveConnection], payload: bytes) -> PushReport:
    report = PushReport()
    for connection in connections:
        try:
            sent = live.pusher.push(connection.connection_id, payload)
        except PushFailed:
            report.failed.append(connection.connection_id)
            continue
        if sent:
            report.delivered += 1
        else:
            live.registry.remove(connection.connection_id)
            report.gone.append(connection.connection_id)
    return report


def push_case_change(store: Store, live: LiveUpdates, event: EventEnvelope, *, now: int) -> PushReport:
    """One Query for the connections, then (only when someone is listening) one GetItem for the case."""
    if not is_case_event(event):
        return PushReport()
    connections = live.registry.live_staff(now=now)
    notice = case_changed(store, event) if connections else None
    if notice is None:
        return PushReport()
    return _push_all(live, connections, notice.model_dump_json().encode())


def open_connection(live: LiveUpdates, principal: Principal, connection_id: str, *, now: int,
                    ttl_seconds: int = CONNECTION_TTL_SECONDS) -> LiveConnection:
    """Register a signed-in caller's connection. Live updates are for staff only."""
    if not principal.role.is_staff:
        raise Forbidden("live updates are for staff")
    connection = LiveConnection(connection_id=connection_id, principal_id=principal.actor_id, role=principal.role,
                                expires_at=now + ttl_seconds)
    live.registry.add(connection)
    return connection


def close_connection(live: LiveUpdates, connection_id: str) -> None:
    live.registry.remove(connection_id)


def answer(live: LiveUpdates, connection_id: str, message: str | bytes | None) -> bool:
    """Answer a client's message: {"action": "ping"} gets {"type": "pong"}. Anything else is ignored.

    Returns True when an answer was sent.
    """
    if not message:
        return False
    try:
        parsed = ClientMessage.model_validate(json.loads(message))
    except (ValueError, ValidationError):
        return False
    if parsed.action != "ping":
        return False
    try:
        return live.pusher.push(connection_id, Pong().model_dump_json().encode())
    except PushFailed:
        return False
