"""Outbox: events are committed with the state change and delivered at least once, idempotently."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from caseline import cli
from caseline.adapters.embedded.outbox_dispatcher import CHECKPOINT, OutboxDispatcher
from caseline.consumers import Consumer
from caseline.domain.common import Channel
from caseline.domain.events import EventEnvelope
from caseline.runtime.server import build_local
from caseline.services import cases
from caseline.services.commands import CustomerRef, OpenCase
from caseline.settings import Settings

from ..conftest import World, make_world

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.seen: list[EventEnvelope] = []
        self.fail_times = fail_times

    def __call__(self, deps, event: EventEnvelope) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("downstream is down")
        self.seen.append(event)


def _dispatcher(platform, *consumers: Consumer, **options) -> tuple[OutboxDispatcher, list[float]]:
    sleeps: list[float] = []
    dispatcher = OutboxDispatcher(platform.table, platform.deps, consumers, sleep=sleeps.append, **options)
    return dispatcher, sleeps


def _open(platform, world: World, email: str = "new@example.net"):
    command = OpenCase(channel=Channel.SOCIAL, subject="Tweet", text="@caseline help",
                       requester=CustomerRef(email=email))
    return cases.open_case(platform.deps, world.staff(world.agent), command)


def test_commands_commit_their_events_and_the_envelopes_match_the_schemas(sqlite_platform, sqlite_world) -> None:
    recorder = Recorder()
    dispatcher, _ = _dispatcher(sqlite_platform, Consumer("rec", frozenset(), recorder))
    dispatcher.drain()
    recorder.seen.clear()
    case = _open(sqlite_platform, sqlite_world)
    assert dispatcher.drain() == 2
    by_type = {e.type: e for e in recorder.seen}
    assert set(by_type) == {"caseline.customer.created", "caseline.case.opened"}
    opened = by_type["caseline.case.opened"]
    assert opened.subject == case.id and opened.correlation_id == "req-ada" and opened.source == "caseline"
    assert opened.data["number"] == case.number
    for event in recorder.seen:
        schema = json.loads((SCHEMAS / f"{event.type}.schema.json").read_text())
        jsonschema.validate(event.model_dump(mode="json"), schema)


def test_consumers_are_idempotent_by_event_id(sqlite_platform, sqlite_world) -> None:
    recorder = Recorder()
    dispatcher, _ = _dispatcher(sqlite_platform, Consumer("rec", frozenset({"caseline.case.opened"}), recorder))
    _open(sqlite_platform, sqlite_world)
    dispatcher.drain()
    assert len(recorder.seen) == 1
    # A crash before the checkpoint moved: the stream is read again, the consumer is not run again.
    for event in list(recorder.seen):
        dispatcher.deliver(dispatcher.consumers[0], event)
    assert len(recorder.seen) == 1 and dispatcher.stats.skipped_duplicates == 1


def test_a_consumer_idempotent_by_itself_gets_no_marker_and_is_run_again_on_redelivery(sqlite_platform,
                                                                                     sqlite_world) -> None:
    marked, unmarked = Recorder(), Recorder()
    opened = frozenset({"caseline.case.opened"})
    dispatcher, _ = _dispatcher(sqlite_platform, Consumer("marked", opened, marked),
                                Consumer("unmarked", opened, unmarked, marker=False))
    _open(sqlite_platform, sqlite_world)
    dispatcher.drain()
    event = unmarked.seen[0]
    store = sqlite_platform.deps.store
    assert store.was_consumed("marked", event.id) and not store.was_consumed("unmarked", event.id)
    for consumer in dispatcher.consumers:  # the stream read again after a crash
        assert dispatcher.deliver(consumer, event)
    assert len(marked.seen) == 1 and len(unmarked.seen) == 2


def test_the_local_consumers_that_keep_no_marker_are_the_ones_idempotent_by_themselves() -> None:
    """...or whose effect lives only as long as the process (support metrics: in memory, redelivered only
    after a restart)."""
    from caseline.consumers.registry import local_consumers

    consumers = local_consumers(live=object(), mail=object())  # type: ignore[arg-type]
    assert {c.name for c in consumers if not c.marker} == {"routing-pool", "routing", "rules", "sla-clock",
                                                           "realtime", "support-metrics"}
    assert {c.name for c in consumers if c.marker} == {"outbound-email"}


def test_failures_are_retried_with_backoff_then_dead_lettered_and_replayable(tmp_path, capsys) -> None:
    local = build_local(Settings(data_dir=tmp_path))
    world = make_world(local.platform)
    flaky = Recorder(fail_times=2)
    broken = Recorder(fail_times=10**6)
    dispatcher, sleeps = _dispatcher(
        local.platform, Consumer("flaky", frozenset({"caseline.case.opened"}), flaky),
        Consumer("broken", frozenset({"caseline.case.opened"}), broken), max_attempts=4, base_delay=0.1)
    dispatcher.drain()
    _open(local.platform, world)
    dispatcher.drain()
    assert len(flaky.seen) == 1
    assert sleeps == [0.1, 0.2, 0.1, 0.2, 0.4]  # flaky: 2 retries; broken: 3 retries, then dead letter
    letters = list(dispatcher.dead_letters())
    assert [(d.consumer, d.attempts, d.error) for d in letters] == [("broken", 4, "RuntimeError: downstream is down")]
    # The CLI lists it; once the consumer works again, replay delivers it and clears the dead letter.
    local.dispatcher.consumers = dispatcher.consumers
    broken.fail_times = 0
    assert cli_main_with(local, ["events", "dead-letters", "--data-dir", str(tmp_path)]) == 0
    assert '"consumer": "broken"' in capsys.readouterr().out
    assert cli_main_with(local, ["events", "replay", "--data-dir", str(tmp_path)]) == 0
    assert len(broken.seen) == 1 and not list(dispatcher.dead_letters())


def cli_main_with(local, argv: list[str]) -> int:
    """Run the CLI against this process's consumers (the CLI builds its own platform from the data dir)."""
    original = cli._local
    cli._local = lambda args: local
    try:
        return cli.main(argv)
    finally:
        cli._local = original


def test_the_checkpoint_survives_a_restart(tmp_path) -> None:
    local = build_local(Settings(data_dir=tmp_path))
    world = make_world(local.platform)
    first = Recorder()
    dispatcher, _ = _dispatcher(local.platform, Consumer("rec", frozenset({"caseline.case.opened"}), first))
    _open(local.platform, world)
    dispatcher.drain()
    checkpoint = local.platform.table.checkpoint(CHECKPOINT)
    assert checkpoint > 0
    restarted = build_local(Settings(data_dir=tmp_path))
    second = Recorder()
    dispatcher2, _ = _dispatcher(restarted.platform, Consumer("rec2", frozenset({"caseline.case.opened"}), second))
    assert dispatcher2.drain() == 0 and second.seen == []
    _open(restarted.platform, world, email="later@example.net")
    assert dispatcher2.drain() == 2 and len(second.seen) == 1


@pytest.mark.parametrize("events", [1, 3])
def test_drain_reports_how_many_events_it_dispatched(sqlite_platform, sqlite_world, events: int) -> None:
    dispatcher, _ = _dispatcher(sqlite_platform)
    dispatcher.drain()
    for n in range(events):
        _open(sqlite_platform, sqlite_world, email=f"n{n}@example.net")
    assert dispatcher.drain() == 2 * events


def test_every_event_is_archived_and_counted_even_when_no_consumer_decodes_it(sqlite_platform, sqlite_world,
                                                                              tmp_path) -> None:
    archive = tmp_path / "events.jsonl"
    opened = Recorder()
    dispatcher, _ = _dispatcher(sqlite_platform, Consumer("rec", frozenset({"caseline.case.opened"}), opened),
                                archive=archive)
    dispatcher.drain()
    archive.unlink(missing_ok=True)
    before = dict(dispatcher.stats.by_type)
    case = _open(sqlite_platform, sqlite_world, email="archived@example.net")
    assert dispatcher.drain() == 2  # case.opened and customer.created; only the first is decoded and delivered
    assert [e.type for e in opened.seen][-1:] == ["caseline.case.opened"]
    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    assert sorted(line["detail-type"] for line in lines) == ["caseline.case.opened", "caseline.customer.created"]
    assert all(line["detail"]["type"] == line["detail-type"] for line in lines)
    assert {line["detail"]["subject"] for line in lines} >= {case.id}
    counted = {k: v - before.get(k, 0) for k, v in dispatcher.stats.by_type.items()}
    assert counted == {"caseline.case.opened": 1, "caseline.customer.created": 1}
