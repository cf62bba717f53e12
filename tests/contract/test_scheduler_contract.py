"""The scheduler port, held to one contract on both adapters (set / replace / cancel / get), then what
each adapter adds: the local runner (list due, fire, retry, survive a reopen) and the AWS resources
(a Step Functions execution per SLA clock, an EventBridge Scheduler one-time schedule for the rest).

moto records executions and schedules but never fires them: here we check what was created, stopped,
updated and deleted. Running the SLA clock's ASL is `tests/aws/test_sla_state_machine.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from caseline.adapters.aws.aws_scheduler import AwsScheduler, schedule_name
from caseline.adapters.embedded.local_scheduler import LocalScheduler, TimerRunner, due_soon, retry_delay
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.adapters.timer_records import TimerRecords
from caseline.ports.clock import FixedClock, UlidIds
from caseline.ports.scheduler import Scheduler, Timer
from caseline.ports.table import Check, Condition, Put, Table, TransactionCancelled
from pydantic import ValidationError

from .conftest import REGION

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ROLE_ARN = "arn:aws:iam::123456789012:role/caseline-scheduler"
TARGET_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:caseline-timers"
GROUP = "caseline"
WAIT_ONLY = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "TimestampPath": "$.due_at",
                                                              "End": True}}})


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def records(table: Table, clock: FixedClock) -> TimerRecords:
    return TimerRecords(table, UlidIds(), now=clock.now)


@pytest.fixture
def aws_clients(request: pytest.FixtureRequest, boto_session: Any) -> dict[str, Any]:
    request.getfixturevalue("aws")
    sfn = boto_session.client("stepfunctions", region_name=REGION)
    scheduler = boto_session.client("scheduler", region_name=REGION)
    machine = sfn.create_state_machine(name="caseline-sla-clock", definition=WAIT_ONLY, roleArn=ROLE_ARN)
    scheduler.create_schedule_group(Name=GROUP)
    return {"sfn": sfn, "scheduler": scheduler, "machine": machine["stateMachineArn"]}


@pytest.fixture
def scheduler(backend: str, records: TimerRecords, request: pytest.FixtureRequest) -> Scheduler:
    if backend == "sqlite":
        return LocalScheduler(records)
    clients = request.getfixturevalue("aws_clients")
    return AwsScheduler(records, state_machine_arn=clients["machine"], target_arn=TARGET_ARN, role_arn=ROLE_ARN,
                        group_name=GROUP, stepfunctions=clients["sfn"], scheduler=clients["scheduler"])


def _timer(kind: str = "rules.recheck", subject: str = "01JCASE0000000000000000001", minutes: int = 30,
           **payload: Any) -> Timer:
    return Timer(kind=kind, subject=subject, due_at=NOW + timedelta(minutes=minutes), payload=payload)


# --- the port, on both adapters ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sla", "rules.recheck"])
def test_set_then_get_returns_the_timer(scheduler: Scheduler, kind: str) -> None:
    timer = _timer(kind, version=3)
    scheduler.set(timer)
    held = scheduler.get(kind, timer.subject)
    assert held is not None
    assert held.timer == timer
    assert held.token and held.started


@pytest.mark.parametrize("kind", ["sla", "routing.overflow"])
def test_setting_again_replaces_the_timer_of_the_same_kind_and_subject(scheduler: Scheduler, kind: str) -> None:
    scheduler.set(_timer(kind, minutes=30, version=1))
    first = scheduler.get(kind, "01JCASE0000000000000000001")
    scheduler.set(_timer(kind, minutes=90, version=2))
    second = scheduler.get(kind, "01JCASE0000000000000000001")
    assert first is not None and second is not None
    assert second.due_at == NOW + timedelta(minutes=90)
    assert second.timer.payload == {"version": 2}
    assert second.token != first.token


def test_kinds_and_subjects_are_separate_timers(scheduler: Scheduler) -> None:
    scheduler.set(_timer("sla", "CASEA", minutes=10))
    scheduler.set(_timer("rules.recheck", "CASEA", minutes=20))
    scheduler.set(_timer("rules.recheck", "CASEB", minutes=30))
    scheduler.cancel("rules.recheck", "CASEA")
    assert scheduler.get("rules.recheck", "CASEA") is None
    sla, other = scheduler.get("sla", "CASEA"), scheduler.get("rules.recheck", "CASEB")
    assert sla is not None and sla.due_at == NOW + timedelta(minutes=10)
    assert other is not None and other.due_at == NOW + timedelta(minutes=30)


@pytest.mark.parametrize("kind", ["sla", "routing.reroute"])
def test_cancel_forgets_and_cancelling_nothing_is_fine(scheduler: Scheduler, kind: str) -> None:
    scheduler.cancel(kind, "NOTHING")
    scheduler.set(_timer(kind, "AGENT1"))
    scheduler.cancel(kind, "AGENT1")
    assert scheduler.get(kind, "AGENT1") is None
    scheduler.cancel(kind, "AGENT1")


@pytest.mark.parametrize("kind", ["sla", "rules.recheck"])
def test_a_staged_timer_is_set_by_its_transaction_and_started_after_it(scheduler: Scheduler, table: Table,
                                                                        kind: str) -> None:
    scheduler.set(_timer(kind, minutes=30, version=1))
    staged = scheduler.stage(_timer(kind, minutes=60, version=2))
    before = scheduler.get(kind, "01JCASE0000000000000000001")
    assert before is not None and before.due_at == NOW + timedelta(minutes=30)  # nothing changes until it commits
    table.transact([*staged.writes, Put({"pk": "CASE#X", "sk": "META", "entity": "case"})])
    staged.start()
    held = scheduler.get(kind, "01JCASE0000000000000000001")
    assert held is not None and held.due_at == NOW + timedelta(minutes=60) and held.timer.payload == {"version": 2}
    assert held.started


def test_a_staged_timer_whose_transaction_fails_leaves_the_previous_timer(scheduler: Scheduler,
                                                                         table: Table) -> None:
    scheduler.set(_timer("rules.recheck", minutes=30))
    first = scheduler.get("rules.recheck", "01JCASE0000000000000000001")
    staged = scheduler.stage(_timer("rules.recheck", minutes=60))
    with pytest.raises(TransactionCancelled):
        table.transact([*staged.writes, Check({"pk": "CASE#X", "sk": "META"}, Condition.present())])
    assert scheduler.get("rules.recheck", "01JCASE0000000000000000001") == first


def test_a_timer_needs_an_aware_time_and_safe_names() -> None:
    with pytest.raises(ValidationError):
        Timer(kind="sla", subject="C1", due_at=datetime(2026, 11, 2, 9, 0))
    with pytest.raises(ValidationError):
        Timer(kind="sla", subject="CASE#1", due_at=NOW)
    with pytest.raises(ValidationError):
        Timer(kind="Bad Kind", subject="C1", due_at=NOW)


# --- the local runner ---------------------------------------------------------------------------------
@pytest.fixture
def local(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[LocalScheduler, SqliteTable]]:
    table = SqliteTable(tmp_path / "caseline.db")
    yield LocalScheduler(TimerRecords(table, UlidIds(), now=clock.now)), table
    table.close()


def test_due_lists_timers_due_by_now_soonest_first(local: tuple[LocalScheduler, SqliteTable]) -> None:
    scheduler, _ = local
    scheduler.set(_timer("sla", "LATE", minutes=60))
    scheduler.set(_timer("sla", "SOON", minutes=5))
    scheduler.set(_timer("rules.recheck", "EXACT", minutes=30))
    due = scheduler.due(NOW + timedelta(minutes=30))
    assert [(t.timer.kind, t.timer.subject) for t in due] == [("sla", "SOON"), ("rules.recheck", "EXACT")]
    assert scheduler.due(NOW) == []


def test_runner_fires_due_timers_once_and_forgets_them(local: tuple[LocalScheduler, SqliteTable],
                                                      clock: FixedClock) -> None:
    scheduler, _ = local
    fired: list[Timer] = []
    runner = TimerRunner(scheduler, fired.append, clock)
    scheduler.set(_timer("sla", "A", minutes=5))
    scheduler.set(_timer("sla", "B", minutes=50))
    assert runner.fire_due(NOW + timedelta(minutes=4)) == 0
    assert runner.fire_due(NOW + timedelta(minutes=5)) == 1
    assert runner.fire_due(NOW + timedelta(minutes=6)) == 0
    assert [t.subject for t in fired] == ["A"]
    assert scheduler.get("sla", "A") is None and scheduler.get("sla", "B") is not None


def test_a_handler_that_sets_its_next_timer_keeps_it(local: tuple[LocalScheduler, SqliteTable],
                                                     clock: FixedClock) -> None:
    scheduler, _ = local

    def rearm(timer: Timer) -> None:
        if timer.payload.get("round", 0) < 1:
            scheduler.set(timer.model_copy(update={"due_at": timer.due_at + timedelta(hours=1),
                                                   "payload": {"round": 1}}))

    runner = TimerRunner(scheduler, rearm, clock)
    scheduler.set(_timer("sla", "A", minutes=5))
    runner.fire_due(NOW + timedelta(minutes=5))
    again = scheduler.get("sla", "A")
    assert again is not None and again.due_at == NOW + timedelta(minutes=65)
    runner.fire_due(NOW + timedelta(minutes=65))
    assert scheduler.get("sla", "A") is None


def test_a_failing_handler_is_retried_with_backoff_until_it_succeeds(
        local: tuple[LocalScheduler, SqliteTable], clock: FixedClock) -> None:
    scheduler, _ = local
    calls: list[datetime] = []

    def flaky(timer: Timer) -> None:
        calls.append(timer.due_at)
        if len(calls) < 3:
            raise RuntimeError("the mail relay is down")

    runner = TimerRunner(scheduler, flaky, clock)
    scheduler.set(_timer("sla", "A", minutes=0))
    assert runner.fire_due(NOW) == 0
    held = scheduler.get("sla", "A")
    assert held is not None and held.attempts == 1 and held.due_at == NOW + retry_delay(1)
    assert runner.fire_due(NOW + retry_delay(1) - timedelta(microseconds=1)) == 0
    assert runner.fire_due(NOW + retry_delay(1)) == 0
    held = scheduler.get("sla", "A")
    assert held is not None and held.attempts == 2
    assert runner.fire_due(held.due_at) == 1
    assert len(calls) == 3 and runner.failed == 2
    assert scheduler.get("sla", "A") is None
    assert retry_delay(2) == 2 * retry_delay(1) and retry_delay(30) == timedelta(minutes=15)


def test_timers_survive_reopening_the_data_file(tmp_path: Path, clock: FixedClock) -> None:
    table = SqliteTable(tmp_path / "caseline.db")
    LocalScheduler(TimerRecords(table, UlidIds(), now=clock.now)).set(_timer("sla", "A", minutes=5, version=4))
    table.close()
    reopened = SqliteTable(tmp_path / "caseline.db")
    fired: list[Timer] = []
    TimerRunner(LocalScheduler(TimerRecords(reopened, UlidIds(), now=clock.now)), fired.append,
                clock).fire_due(NOW + timedelta(minutes=5))
    reopened.close()
    assert [(t.subject, t.payload) for t in fired] == [("A", {"version": 4})]



def test_the_runner_is_woken_only_for_timers_due_before_its_next_look(tmp_path: Path, clock: FixedClock) -> None:
    """It looks every second anyway; waking it for an SLA target hours away only cost a query of the index."""
    table = SqliteTable(tmp_path / "caseline.db")
    scheduler = LocalScheduler(TimerRecords(table, UlidIds(), now=clock.now))
    runner = TimerRunner(scheduler, lambda timer: None, clock, idle_seconds=1.0)
    scheduler.set(_timer("sla", "LATER", minutes=30, version=1))
    assert not runner._wake.is_set()
    scheduler.set(Timer(kind="sla", subject="NOW", due_at=NOW, payload={"version": 1}))
    assert runner._wake.is_set()
    assert due_soon(Timer(kind="sla", subject="X", due_at=NOW + timedelta(seconds=1)), clock, 1.0)
    assert not due_soon(Timer(kind="sla", subject="X", due_at=NOW + timedelta(seconds=2)), clock, 1.0)
    table.close()

# --- the AWS resources ----------------------------------------------------------------------------------
@pytest.fixture
def aws_scheduler(request: pytest.FixtureRequest, clock: FixedClock) -> tuple[AwsScheduler, dict[str, Any]]:
    from caseline.adapters.aws.dynamodb_table import DynamoDbTable, create_table

    clients = request.getfixturevalue("aws_clients")
    dynamodb = request.getfixturevalue("dynamodb_client")
    create_table(dynamodb, "caseline-timers")
    records = TimerRecords(DynamoDbTable("caseline-timers", client=dynamodb), UlidIds(), now=clock.now)
    return AwsScheduler(records, state_machine_arn=clients["machine"], target_arn=TARGET_ARN, role_arn=ROLE_ARN,
                        group_name=GROUP, stepfunctions=clients["sfn"], scheduler=clients["scheduler"]), clients


@pytest.mark.aws
def test_an_sla_timer_is_an_execution_and_a_new_one_stops_the_old(
        aws_scheduler: tuple[AwsScheduler, dict[str, Any]]) -> None:
    scheduler, clients = aws_scheduler
    sfn = clients["sfn"]
    scheduler.set(_timer("sla", "CASE1", minutes=30, version=3))
    first = scheduler.get("sla", "CASE1")
    assert first is not None and first.handle
    described = sfn.describe_execution(executionArn=first.handle)
    assert described["status"] == "RUNNING"
    assert described["name"].startswith("CASE1-3-")
    assert json.loads(described["input"]) == {"kind": "sla", "subject": "CASE1", "token": first.token,
                                              "due_at": "2026-11-02T09:30:00Z", "payload": {"version": 3}}
    scheduler.set(_timer("sla", "CASE1", minutes=45, version=4))
    second = scheduler.get("sla", "CASE1")
    assert second is not None and second.handle != first.handle
    assert sfn.describe_execution(executionArn=first.handle)["status"] == "ABORTED"
    assert sfn.describe_execution(executionArn=second.handle)["status"] == "RUNNING"
    scheduler.cancel("sla", "CASE1")
    assert sfn.describe_execution(executionArn=second.handle)["status"] == "ABORTED"


@pytest.mark.aws
def test_a_timer_whose_start_failed_after_its_commit_is_recorded_as_not_started(
        aws_scheduler: tuple[AwsScheduler, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler, clients = aws_scheduler
    staged = scheduler.stage(_timer("sla", "CASE3", minutes=30, version=1))
    scheduler.records.table.transact(staged.writes)

    def throttled(**request: Any) -> None:
        raise clients["sfn"].exceptions.ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")

    monkeypatch.setattr(clients["sfn"], "start_execution", throttled)
    with pytest.raises(Exception, match="Rate exceeded"):
        staged.start()
    held = scheduler.get("sla", "CASE3")
    assert held is not None and not held.started  # so the SLA clock sets it again instead of trusting it
    monkeypatch.undo()
    scheduler.set(_timer("sla", "CASE3", minutes=30, version=1))
    again = scheduler.get("sla", "CASE3")
    assert again is not None and again.started


@pytest.mark.aws
def test_other_timers_are_one_time_schedules_updated_in_place_and_deleted(
        aws_scheduler: tuple[AwsScheduler, dict[str, Any]]) -> None:
    scheduler, clients = aws_scheduler
    api = clients["scheduler"]
    scheduler.set(_timer("routing.overflow", "CASE1", minutes=15))
    name = schedule_name("routing.overflow", "CASE1")
    schedule = api.get_schedule(Name=name, GroupName=GROUP)
    assert schedule["ScheduleExpression"] == "at(2026-11-02T09:15:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == TARGET_ARN and schedule["Target"]["RoleArn"] == ROLE_ARN
    held = scheduler.get("routing.overflow", "CASE1")
    assert held is not None and json.loads(schedule["Target"]["Input"])["token"] == held.token
    scheduler.set(_timer("routing.overflow", "CASE1", minutes=40))
    assert api.get_schedule(Name=name, GroupName=GROUP)["ScheduleExpression"] == "at(2026-11-02T09:40:00)"
    assert len(api.list_schedules(GroupName=GROUP)["Schedules"]) == 1
    scheduler.cancel("routing.overflow", "CASE1")
    with pytest.raises(api.exceptions.ResourceNotFoundException):
        api.get_schedule(Name=name, GroupName=GROUP)


@pytest.mark.aws
def test_a_timer_already_due_is_scheduled_a_minute_ahead(aws_scheduler: tuple[AwsScheduler, dict[str, Any]]) -> None:
    scheduler, clients = aws_scheduler
    scheduler.set(_timer("rules.recheck", "CASE2", minutes=-30))
    schedule = clients["scheduler"].get_schedule(Name=schedule_name("rules.recheck", "CASE2"), GroupName=GROUP)
    assert schedule["ScheduleExpression"] == "at(2026-11-02T09:01:00)"
    held = scheduler.get("rules.recheck", "CASE2")
    assert held is not None and held.due_at == NOW - timedelta(minutes=30)  # the record keeps the real due time


def test_schedule_names_fit_the_service_limits() -> None:
    long_name = schedule_name("routing.reroute", "A" * 100)
    assert len(long_name) == 64 and long_name != schedule_name("routing.reroute", "A" * 99)
    assert schedule_name("sla", "01J") == "sla-01J"
