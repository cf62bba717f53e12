"""Timers in AWS: a Step Functions execution per case for SLA clocks, EventBridge Scheduler for the rest.

- kind `sla`: `StartExecution` of the SLA clock state machine, named `<case id>-<case version>-<token>` so the
  name says which version of the case it was set for. The new record is written first, then the new
  execution is started, then the previous one is stopped: if the stop fails, the old execution's check still
  finds that its token is no longer current and ends as superseded.
- other kinds: a one-time schedule `at(<due, UTC>)` in the Caseline schedule group, targeting the `timers`
  function with the timer (and its token) as input, deleted by the service after it has run
  (`ActionAfterCompletion=DELETE`). Setting it again updates the schedule in place. A timer that is already
  due is scheduled a minute ahead.

Clients are created lazily, or passed in (tests pass moto-backed ones).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ...ports.scheduler import ScheduledTimer, StagedTimer, Timer
from ..timer_records import TimerRecords
from .clients import client as aws_client

SLA_KIND = "sla"
_NAME_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]")
MAX_SCHEDULE_NAME = 64
MAX_EXECUTION_NAME = 80
PAST_DUE_DELAY = timedelta(minutes=1)


def schedule_name(kind: str, subject: str) -> str:
    name = _NAME_UNSAFE.sub("_", f"{kind}-{subject}")
    if len(name) <= MAX_SCHEDULE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[: MAX_SCHEDULE_NAME - 17]}-{digest}"


def execution_name(timer: Timer, token: str) -> str:
    version = timer.payload.get("version", 0)
    return _NAME_UNSAFE.sub("_", f"{timer.subject}-{version}-{token}")[:MAX_EXECUTION_NAME]


def timer_input(scheduled: ScheduledTimer) -> dict[str, Any]:
    """What the execution or the schedule carries; `due_at` in the form a Wait state's TimestampPath takes."""
    timer = scheduled.timer
    return {"kind": timer.kind, "subject": timer.subject, "token": scheduled.token,
            "due_at": timer.due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "payload": timer.payload}


class AwsScheduler:
    def __init__(self, records: TimerRecords, *, state_machine_arn: str, target_arn: str, role_arn: str,
                 group_name: str, region: str | None = None, stepfunctions: Any = None, scheduler: Any = None,
                 dead_letter_arn: str | None = None) -> None:
        self.records = records
        self.state_machine_arn = state_machine_arn
        self.target_arn = target_arn
        self.role_arn = role_arn
        self.group_name = group_name
        self.dead_letter_arn = dead_letter_arn
        self._region = region
        self._sfn = stepfunctions
        self._scheduler = scheduler

    @property
    def stepfunctions(self) -> Any:
        if self._sfn is None:
            self._sfn = aws_client("stepfunctions", region_name=self._region)
        return self._sfn

    @property
    def scheduler(self) -> Any:
        if self._scheduler is None:
            self._scheduler = aws_client("scheduler", region_name=self._region)
        return self._scheduler

    def set(self, timer: Timer) -> None:
        previous = self.records.get(timer.kind, timer.subject)
        self._start(self.records.put(timer), previous)

    def stage(self, timer: Timer) -> StagedTimer:
        previous = self.records.get(timer.kind, timer.subject)
        scheduled, write = self.records.staged(timer)
        return StagedTimer(writes=[write], start=lambda: self._start(scheduled, previous))

    def _start(self, scheduled: ScheduledTimer, previous: ScheduledTimer | None) -> None:
        """Make AWS fire the timer whose record was just stored, and stop the one it replaced."""
        timer = scheduled.timer
        if timer.kind == SLA_KIND:
            started = self.stepfunctions.start_execution(
                stateMachineArn=self.state_machine_arn, name=execution_name(timer, scheduled.token),
                input=json.dumps(timer_input(scheduled)))
            self.records.set_handle(scheduled, started["executionArn"])
            if previous is not None and previous.handle:
                self._stop(previous.handle)
            return
        name = schedule_name(timer.kind, timer.subject)
        request = self._schedule_request(name, scheduled)
        try:
            self.scheduler.create_schedule(**request)
        except self.scheduler.exceptions.ConflictException:
            self.scheduler.update_schedule(**request)
        self.records.set_handle(scheduled, name)

    def cancel(self, kind: str, subject: str) -> None:
        previous = self.records.get(kind, subject)
        self.records.delete(kind, subject)
        if kind == SLA_KIND:
            if previous is not None and previous.handle:
                self._stop(previous.handle)
            return
        with contextlib.suppress(self.scheduler.exceptions.ResourceNotFoundException):
            self.scheduler.delete_schedule(Name=schedule_name(kind, subject), GroupName=self.group_name)

    def get(self, kind: str, subject: str) -> ScheduledTimer | None:
        return self.records.get(kind, subject)

    def _stop(self, execution_arn: str) -> None:
        with contextlib.suppress(self.stepfunctions.exceptions.ExecutionDoesNotExist):
            self.stepfunctions.stop_execution(executionArn=execution_arn, cause="superseded by a newer SLA clock")

    def _schedule_request(self, name: str, scheduled: ScheduledTimer) -> dict[str, Any]:
        target: dict[str, Any] = {"Arn": self.target_arn, "RoleArn": self.role_arn,
                                  "Input": json.dumps(timer_input(scheduled)),
                                  "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}}
        if self.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        # A timer already due fires a minute from now: an `at()` in the past is not something to rely on.
        due = max(scheduled.due_at, self.records.now() + PAST_DUE_DELAY).astimezone(UTC)
        return {"Name": name, "GroupName": self.group_name,
                "ScheduleExpression": f"at({due.strftime('%Y-%m-%dT%H:%M:%S')})", "ScheduleExpressionTimezone": "UTC",
                "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": target, "ActionAfterCompletion": "DELETE",
                "State": "ENABLED"}


def parse_due(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
