"""The SLA clock's ASL executed by moto's Step Functions interpreter, with the Check state running our
`sla_check` function over DynamoDB (moto) and the AWS scheduler adapter.

moto cannot run Lambda code without Docker. Inside the fixture only, the interpreter's Lambda client is
replaced (`lambda_eval_utils.boto_client_for`, the one place moto's Task states get their client) by one
whose `invoke` calls `functions/sla_check/handler.py` in-process. Before each Check it moves the test's
clock to the state's `due_at`, which is what the Wait state before it waited for; the dates are in June
2026, so the real Wait returns at once.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from caseline import bootstrap
from caseline.adapters.aws.aws_scheduler import AwsScheduler
from caseline.adapters.aws.dynamodb_table import DynamoDbTable, create_table
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence
from caseline.automation.sla import SlaTarget
from caseline.domain.agents import Agent, Team
from caseline.domain.auth import Principal, Role
from caseline.domain.case import Priority
from caseline.domain.common import Channel
from caseline.domain.sla import SlaClockStatus
from caseline.ports.clock import FixedClock, UlidIds
from caseline.runtime.gateway import LocalLambdaContext, load_handler
from caseline.runtime.server import FUNCTIONS_DIR, REPO_ROOT
from caseline.services import cases, sla_config
from caseline.services.commands import CreateCustomer, CustomerRef, OpenCase
from caseline.services.context import Request
from caseline.services.customers import create_customer
from caseline.services.sla_clock import SLA_TIMER, refresh_sla
from caseline.services.sla_config import SlaEscalation, SlaPolicyConfig, TeamCalendar, office_hours
from caseline.settings import Settings
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

pytestmark = pytest.mark.aws

REGION = "eu-west-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:caseline-sla-check"
ASL = REPO_ROOT / "statemachines" / "sla_clock.asl.json"
BERLIN_SUMMER = timedelta(hours=2)
POLICY = SlaPolicyConfig(
    id="office", name="Office hours",
    targets=[SlaTarget(priority=Priority.NORMAL, first_response_minutes=8 * 60, resolution_minutes=16 * 60),
             SlaTarget(priority=Priority.HIGH, first_response_minutes=4 * 60, resolution_minutes=8 * 60)],
    escalations=[SlaEscalation(when="breached", raise_priority_to=Priority.HIGH)])


def munich(day: int, hour: int) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=UTC) - BERLIN_SUMMER


class InProcessLambda:
    """Stands in for the interpreter's Lambda client: runs our handler, records each invocation."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.handler = load_handler(FUNCTIONS_DIR, "sla_check")
        self.calls: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: Any, **_: Any) -> dict[str, Any]:
        assert FunctionName == FUNCTION_ARN
        event = json.loads(Payload) if isinstance(Payload, str | bytes) else dict(Payload)
        due = datetime.fromisoformat(event["due_at"].replace("Z", "+00:00"))
        if due > self.clock.now():
            self.clock.set(due)  # the Wait state before this Check waited until then
        self.calls.append(event)
        try:
            result = self.handler(event, LocalLambdaContext(function_name="sla_check",
                                                            aws_request_id=str(uuid.uuid4())))
        except Exception as error:  # what Lambda reports for an unhandled error
            body = {"errorMessage": str(error), "errorType": type(error).__name__}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


@dataclass
class Cloud:
    platform: bootstrap.Platform
    clock: FixedClock
    sfn: Any
    machine_arn: str
    lam: InProcessLambda
    team: Team
    customer_id: str

    def open_case(self) -> str:
        admin = Request(principal=Principal(subject="setup", role=Role.ADMIN, agent_id=self.team.manager_id))
        case = cases.open_case(self.platform.deps, admin, OpenCase(
            channel=Channel.WEB, subject="Invoice wrong", text="Twice the amount.",
            requester=CustomerRef(customer_id=self.customer_id), team_id=self.team.id))
        return case.id

    def finished(self, execution_arn: str) -> dict[str, Any]:
        for _ in range(600):  # the interpreter runs in a thread of its own; wait for it to end
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise AssertionError(f"{execution_arn} still running")


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cloud]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", REGION), ("AWS_REGION", REGION), ("POWERTOOLS_TRACE_DISABLED", "1")):
        monkeypatch.setenv(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        clock = FixedClock(munich(3, 15))
        lam = InProcessLambda(clock)
        monkeypatch.setattr(lambda_eval_utils, "boto_client_for", lambda **_: lam)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(dynamodb, "caseline")
        sfn = boto3.client("stepfunctions", region_name=REGION)
        definition = ASL.read_text().replace("${SlaCheckFunctionArn}", FUNCTION_ARN)
        machine = sfn.create_state_machine(name="caseline-sla-clock", definition=definition,
                                           roleArn="arn:aws:iam::123456789012:role/sla-clock")
        settings = Settings(adapters="aws", table_name="caseline", region=REGION,
                            sla_state_machine_arn=machine["stateMachineArn"])
        platform = bootstrap.build(settings, table=DynamoDbTable("caseline", client=dynamodb), clock=clock,
                                   idempotency=SqliteIdempotencyPersistence(tmp_path / "idem.db"))
        assert isinstance(platform.deps.scheduler, AwsScheduler)
        bootstrap.use(platform)
        ids = UlidIds()
        manager = Agent(id=ids.new(), name="Mia", email="mia@caseline.dev", handle="mia", role=Role.SUPERVISOR)
        team = Team(id=ids.new(), name="Billing", manager_id=manager.id, time_zone="Europe/Berlin")
        uow = platform.deps.store.begin()
        uow.put_team(team)
        uow.put_agent(manager)
        uow.commit()
        admin = Request(principal=Principal(subject="setup", role=Role.ADMIN, agent_id=manager.id))
        sla_config.put_policy(platform.deps, admin, POLICY.id, POLICY, expected_version=None)
        sla_config.put_calendar(platform.deps, admin, team.id, TeamCalendar(
            calendar=office_hours("Europe/Berlin", "DE", "BY"), sla_policy_id=POLICY.id), expected_version=None)
        customer = create_customer(platform.deps, admin, CreateCustomer(name="Carla", emails=["carla@example.com"]))
        try:
            yield Cloud(platform, clock, sfn, machine["stateMachineArn"], lam, team, customer.id)
        finally:
            bootstrap.use(None)


def test_the_clock_waits_checks_escalates_and_loops_until_nothing_can_change(cloud: Cloud) -> None:
    case_id = cloud.open_case()  # Wednesday 15:00 in Munich; Thursday is Corpus Christi
    refresh_sla(cloud.platform.deps, case_id)  # what the sla-clock consumer does on caseline.case.opened
    timer = cloud.platform.deps.scheduler.get(SLA_TIMER, case_id)
    assert timer is not None and timer.handle and timer.due_at == munich(5, 13)

    described = cloud.finished(timer.handle)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["status"] == "closed"
    # warning (Fri 13:00), first-response breach (Fri 15:00) which raised the priority, then the high targets'
    # resolution warning and breach; after that no clock changes on its own.
    checked = [call["due_at"] for call in cloud.lam.calls]
    assert checked[:2] == ["2026-06-05T11:00:00Z", "2026-06-05T13:00:00Z"]
    assert len(checked) == len(set(checked)) >= 3
    case = cloud.platform.deps.store.get_case(case_id)
    assert case is not None and case.priority is Priority.HIGH
    assert case.sla is not None and {c.state for c in case.sla.clocks} == {SlaClockStatus.BREACHED}
    history = cloud.sfn.get_execution_history(executionArn=timer.handle)["events"]
    assert [e["type"] for e in history].count("TaskStateEntered") == len(checked)


def test_a_new_timer_supersedes_the_running_execution(cloud: Cloud) -> None:
    from caseline.ports.scheduler import Timer

    case_id = cloud.open_case()
    scheduler = cloud.platform.deps.scheduler
    # Due an hour from now on the wall clock, so the first execution is still in its Wait state when it is
    # superseded. (Due in the past, it would run its check at once, and moto's in-memory DynamoDB is not safe
    # for that check's reads on moto's thread while this thread writes.)
    later = datetime.now(UTC) + timedelta(hours=1)
    scheduler.set(Timer(kind=SLA_TIMER, subject=case_id, due_at=later, payload={"version": 8}))
    first = scheduler.get(SLA_TIMER, case_id)
    assert first is not None and first.handle
    # moto runs executions on a thread of their own, and stopping one before that thread has started it
    # fails inside moto: wait until the execution is waiting.
    deadline = time.monotonic() + 10
    while not any(e["type"] == "WaitStateEntered"
                  for e in cloud.sfn.get_execution_history(executionArn=first.handle)["events"]):
        assert time.monotonic() < deadline, "the first execution never reached its Wait state"
        time.sleep(0.02)
    # The case changed meanwhile (say its priority): the consumer sets the timer again.
    scheduler.set(Timer(kind=SLA_TIMER, subject=case_id, due_at=munich(5, 13), payload={"version": 9}))
    second = scheduler.get(SLA_TIMER, case_id)
    assert second is not None and second.handle != first.handle
    assert cloud.finished(first.handle)["status"] == "ABORTED"
    new = cloud.finished(second.handle)
    assert new["status"] == "SUCCEEDED" and new["name"].startswith(f"{case_id}-9-")


def test_an_execution_whose_token_is_no_longer_current_ends_as_superseded(cloud: Cloud) -> None:
    case_id = cloud.open_case()
    opened = cloud.platform.deps.store.get_case(case_id)
    event = {"kind": "sla", "subject": case_id, "token": "01J00000000000000000000000",
             "due_at": "2026-06-05T11:00:00Z", "payload": {}}
    execution = cloud.sfn.start_execution(stateMachineArn=cloud.machine_arn, name=f"{case_id}-stale",
                                          input=json.dumps(event))
    described = cloud.finished(execution["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["status"] == "superseded"
    assert cloud.platform.deps.store.get_case(case_id) == opened  # a stale execution never touches the case
