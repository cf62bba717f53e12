"""The live-updates service: case events become case.changed notices for staff connections only."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from caseline.adapters.connections import TableConnectionRegistry
from caseline.adapters.embedded.outbox_dispatcher import OutboxDispatcher
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.consumers.registry import local_consumers
from caseline.domain.auth import Principal, Role
from caseline.domain.case import CaseStatus
from caseline.domain.common import Channel
from caseline.domain.errors import Forbidden
from caseline.domain.events import EventEnvelope
from caseline.ports.connections import LiveConnection, Pusher, PushFailed
from caseline.services import cases, realtime
from caseline.services.commands import CustomerRef, OpenCase, UpdateCase
from caseline.services.publishing import envelope_from_item

from ..conftest import World
from ..support.aws_calls import count_dynamodb_calls


class RecordingPusher(Pusher):
    """A pusher whose clients we control: some went away, some fail for now."""

    def __init__(self) -> None:
        self.sent: dict[str, list[dict]] = {}
        self.gone: set[str] = set()
        self.failing: set[str] = set()

    def push(self, connection_id: str, payload: bytes) -> bool:
        if connection_id in self.failing:
            raise PushFailed("throttled")
        if connection_id in self.gone:
            return False
        self.sent.setdefault(connection_id, []).append(json.loads(payload))
        return True


@pytest.fixture
def live() -> Iterator[realtime.LiveUpdates]:
    table = SqliteTable.memory()
    yield realtime.LiveUpdates(TableConnectionRegistry(table, scope="test"), RecordingPusher())
    table.close()


def _now(platform) -> int:
    return int(platform.deps.clock.now().timestamp())


def _outbox(platform) -> list[EventEnvelope]:
    return sorted((envelope_from_item(i) for i in platform.table.scan() if i.get("entity") == "outbox"),
                  key=lambda e: e.id)


def _open(platform, world: World):
    return cases.open_case(platform.deps, world.staff(world.agent), OpenCase(
        channel=Channel.CHAT, subject="Where is my parcel?", text="hi",
        requester=CustomerRef(customer_id=world.alice_id)))


def _connect(live, platform, world: World, connection_id: str, who) -> LiveConnection:
    return realtime.open_connection(live, world.staff(who).principal, connection_id, now=_now(platform))


def test_case_events_reach_every_staff_connection_with_the_current_case(platform, world, live) -> None:
    _connect(live, platform, world, "agent=", world.agent)
    _connect(live, platform, world, "super=", world.supervisor)
    live.registry.add(LiveConnection("cust=", world.alice_id, Role.CUSTOMER, _now(platform) + 60))
    case = _open(platform, world)
    updated = cases.update_case(platform.deps, world.staff(world.agent), case.id,
                                UpdateCase(status=CaseStatus.OPEN), expected_version=case.version)
    events = [e for e in _outbox(platform) if realtime.is_case_event(e)]
    assert [e.type for e in events] == ["caseline.case.opened", "caseline.case.status_changed"]
    for event in events:
        report = realtime.push_case_change(platform.deps.store, live, event, now=_now(platform))
        assert report.delivered == 2 and report.gone == [] and report.failed == []
    assert set(live.pusher.sent) == {"agent=", "super="}
    opened, changed = live.pusher.sent["agent="]
    assert opened["type"] == changed["type"] == "case.changed"
    assert (opened["event_type"], opened["event_id"]) == ("caseline.case.opened", events[0].id)
    # A notice carries the case as it is now, so an older event never rolls the client back.
    assert opened["case"]["version"] == changed["case"]["version"] == updated.version
    assert changed["case"]["status"] == "open" and changed["case"]["requester_name"] == "Alice Example"


def test_gone_connections_are_forgotten_and_failures_do_not_stop_the_others(platform, world, live) -> None:
    for connection_id in ("a=", "b=", "c="):
        _connect(live, platform, world, connection_id, world.agent)
    live.pusher.gone.add("a=")
    live.pusher.failing.add("b=")
    _open(platform, world)
    event = next(e for e in _outbox(platform) if e.type == "caseline.case.opened")
    report = realtime.push_case_change(platform.deps.store, live, event, now=_now(platform))
    assert (report.delivered, report.gone, report.failed) == (1, ["a="], ["b="])
    assert {c.connection_id for c in live.registry.live_staff(now=_now(platform))} == {"b=", "c="}
    # Delivered again (at-least-once): the same notice again, which the client recognises by version.
    realtime.push_case_change(platform.deps.store, live, event, now=_now(platform))
    assert live.pusher.sent["c="][0] == live.pusher.sent["c="][1]


def test_other_events_and_empty_rooms_cost_no_read(platform, world, live, request) -> None:
    case = _open(platform, world)
    customer_event = next(e for e in _outbox(platform) if e.type == "caseline.customer.created")
    case_event = next(e for e in _outbox(platform) if e.type == "caseline.case.opened")
    assert realtime.push_case_change(platform.deps.store, live, customer_event, now=_now(platform)).delivered == 0
    assert realtime.push_case_change(platform.deps.store, live, case_event, now=_now(platform)).delivered == 0
    if "dynamodb" not in request.node.callspec.id:
        return
    client = platform.table.client
    _connect(live, platform, world, "a=", world.agent)
    with count_dynamodb_calls(client) as calls:
        realtime.push_case_change(platform.deps.store, live, customer_event, now=_now(platform))
        assert calls == []
        realtime.push_case_change(platform.deps.store, live, case_event, now=_now(platform))
    assert calls == ["GetItem"]
    assert live.pusher.sent["a="][0]["case"]["id"] == case.id


def test_connections_are_for_staff_and_expire_after_two_hours(platform, world, live) -> None:
    now = _now(platform)
    connection = _connect(live, platform, world, "a=", world.agent)
    assert connection.expires_at == now + 2 * 3600 and connection.principal_id == world.agent.id
    customer = Principal(subject="c", role=Role.CUSTOMER, customer_id=world.alice_id)
    with pytest.raises(Forbidden):
        realtime.open_connection(live, customer, "c=", now=now)
    assert [c.connection_id for c in live.registry.live_staff(now=now + 2 * 3600 - 1)] == ["a="]
    assert live.registry.live_staff(now=now + 2 * 3600) == []
    realtime.close_connection(live, "a=")
    assert live.registry.live_staff(now=now) == []


@pytest.mark.parametrize(("message", "answered"), [
    ('{"action": "ping"}', True), (b'{"action":"ping","extra":1}', True), ('{"action": "dance"}', False),
    ("{not json", False), ("[1, 2]", False), ('"ping"', False), ("", False), (None, False),
])
def test_ping_gets_pong_and_anything_else_is_ignored(live, message, answered) -> None:
    assert realtime.answer(live, "a=", message) is answered
    assert live.pusher.sent.get("a=", []) == ([{"type": "pong"}] if answered else [])


def test_the_local_dispatcher_runs_the_realtime_consumer(sqlite_platform, sqlite_world, live) -> None:
    _connect(live, sqlite_platform, sqlite_world, "a=", sqlite_world.agent)
    dispatcher = OutboxDispatcher(sqlite_platform.table, sqlite_platform.deps, local_consumers(live))
    dispatcher.drain()  # the world's customer events: nothing for live updates
    assert live.pusher.sent == {}
    case = _open(sqlite_platform, sqlite_world)
    dispatcher.drain()
    notices = live.pusher.sent["a="]
    assert {n["case"]["id"] for n in notices} == {case.id}  # its opening, then the SLA clocks stored on it
    assert notices[0]["event_type"] == "caseline.case.opened"
    assert "realtime" not in {c.name for c in local_consumers()}  # only where a hub is wired in
