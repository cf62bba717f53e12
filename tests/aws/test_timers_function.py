"""The `timers` function: what an EventBridge Scheduler one-time schedule delivers, dispatched by kind (moto)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from caseline import bootstrap, timers
from caseline.adapters.aws.aws_scheduler import AwsScheduler, schedule_name, timer_input
from caseline.adapters.aws.dynamodb_table import DynamoDbTable, create_table
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence
from caseline.ports.clock import FixedClock
from caseline.ports.scheduler import Timer
from caseline.runtime.gateway import LocalLambdaContext, load_handler
from caseline.runtime.server import FUNCTIONS_DIR
from caseline.settings import Settings

from ..conftest import REGION

pytestmark = pytest.mark.aws
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def aws_platform(aws: None, tmp_path: Path) -> Iterator[bootstrap.Platform]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_table(dynamodb, "caseline")
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name="caseline")
    settings = Settings(adapters="aws", table_name="caseline", region=REGION,
                        timers_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:timers",
                        scheduler_role_arn="arn:aws:iam::123456789012:role/scheduler")
    platform = bootstrap.build(settings, table=DynamoDbTable("caseline", client=dynamodb), clock=FixedClock(NOW),
                               idempotency=SqliteIdempotencyPersistence(tmp_path / "idem.db"))
    bootstrap.use(platform)
    yield platform
    bootstrap.use(None)


def test_a_delivered_timer_runs_its_handler_once_and_a_replaced_one_is_skipped(
        aws_platform: bootstrap.Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Timer] = []
    monkeypatch.setitem(timers.handlers, "routing.overflow", lambda deps, timer: seen.append(timer))
    scheduler = aws_platform.deps.scheduler
    assert isinstance(scheduler, AwsScheduler)
    scheduler.set(Timer(kind="routing.overflow", subject="CASE1", due_at=NOW, payload={"team": "T1"}))
    held = scheduler.get("routing.overflow", "CASE1")
    assert held is not None
    schedule = scheduler.scheduler.get_schedule(Name=schedule_name("routing.overflow", "CASE1"), GroupName="caseline")
    delivered = json.loads(schedule["Target"]["Input"])
    assert delivered == timer_input(held)

    handler = load_handler(FUNCTIONS_DIR, "timers")
    context = LocalLambdaContext(function_name="timers", aws_request_id=str(uuid.uuid4()))
    assert handler(delivered, context) == {"outcome": "fired"}
    assert [(t.subject, t.payload) for t in seen] == [("CASE1", {"team": "T1"})]
    assert scheduler.get("routing.overflow", "CASE1") is None
    assert handler(delivered, context) == {"outcome": "stale"}  # a second delivery does nothing
    assert len(seen) == 1

    scheduler.set(Timer(kind="routing.overflow", subject="CASE1", due_at=NOW, payload={"team": "T2"}))
    assert handler(delivered, context) == {"outcome": "stale"}  # the old schedule's input, after a replacement
    assert len(seen) == 1
