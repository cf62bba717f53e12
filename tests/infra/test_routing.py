"""Routing in the service stacks: the routing_events function on the events routing listens to, with the
timer grants of the SLA construct and the settings that let it set timers."""

from __future__ import annotations

import json

import pytest
from caseline.consumers.routing import EVENT_TYPES

from .conftest import Synthesized
from .test_functions import role_statements
from .test_realtime import function_named, only
from .test_sla import _actions

SERVICE_STACKS = ("service-primary", "service-secondary")


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_case_and_availability_events_reach_the_routing_function_with_a_dead_letter_queue(
        synth: Synthesized, key: str) -> None:
    consumer_id, _ = function_named(synth, key, "routing_events")
    rules = [r for r in synth.resources(key, "AWS::Events::Rule").values()
             if any(consumer_id in json.dumps(t) for t in r["Properties"].get("Targets", []))]
    assert len(rules) == 1
    detail_types = set(rules[0]["Properties"]["EventPattern"]["detail-type"])
    assert detail_types == set(EVENT_TYPES)
    assert {"caseline.case.opened", "caseline.case.assigned", "caseline.agent.availability_changed"} <= detail_types
    assert rules[0]["Properties"]["Targets"][0]["DeadLetterConfig"]


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_the_routing_function_may_set_timers_in_the_group_and_nothing_wider(synth: Synthesized, key: str) -> None:
    _, group = only(synth, key, "AWS::Scheduler::ScheduleGroup")
    group_name = group["Properties"]["Name"]
    _, function = function_named(synth, key, "routing_events")
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment["CASELINE_SCHEDULE_GROUP_NAME"] == group_name
    assert "CASELINE_TIMERS_FUNCTION_ARN" in environment and "CASELINE_SCHEDULER_ROLE_ARN" in environment
    actions = _actions(role_statements(synth, key, function["Properties"]["Role"]["Fn::GetAtt"][0]))
    for verb in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule"):
        assert f"schedule/{group_name}/*" in json.dumps(actions[f"scheduler:{verb}"])
    assert "iam:PassRole" in actions and "dynamodb:PutItem" in actions
    assert "dynamodb:Scan" not in actions
    wildcard = {action for action, resources in actions.items() if "*" in resources}
    assert wildcard <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
