"""SLA clocks and timers in the service stacks: the inlined state machine, its functions, the scheduler's
group and role, least-privilege grants, the event rule and the alarm on failed executions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import Synthesized
from .test_functions import _as_list, role_statements
from .test_realtime import function_named, only

SERVICE_STACKS = ("service-primary", "service-secondary")


def _actions(statements: list[dict[str, Any]]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for statement in statements:
        for action in _as_list(statement["Action"]):
            found.setdefault(action, []).extend(_as_list(statement["Resource"]))
    return found


def _definition(machine: dict[str, Any]) -> dict[str, Any]:
    """The inlined ASL with its substitutions left as placeholders (CloudFormation fills them)."""
    body = machine["Properties"]["DefinitionString"]
    text = body if isinstance(body, str) else "".join(p if isinstance(p, str) else "${X}" for p in body["Fn::Join"][1])
    return json.loads(text)


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_the_sla_clock_state_machine_is_inlined_and_invokes_only_the_check_function(
        synth: Synthesized, key: str) -> None:
    _, machine = only(synth, key, "AWS::StepFunctions::StateMachine")
    properties = machine["Properties"]
    assert "DefinitionS3Location" not in properties
    substitutions = properties["DefinitionSubstitutions"]
    check_id, _ = function_named(synth, key, "sla_check")
    assert substitutions == {"SlaCheckFunctionArn": {"Fn::GetAtt": [check_id, "Arn"]}}
    states = json.loads(properties["DefinitionString"])["States"] if isinstance(
        properties["DefinitionString"], str) else _definition(machine)["States"]
    assert states["WaitUntilDue"] == {"Type": "Wait", "TimestampPath": "$.due_at", "Next": "Check"}
    assert states["Check"]["Resource"] == "${SlaCheckFunctionArn}"
    assert {c["StringEquals"]: c["Next"] for c in states["WhatNext"]["Choices"]} == {
        "wait": "WaitUntilDue", "superseded": "Superseded"}
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    role_id = properties["RoleArn"]["Fn::GetAtt"][0]
    invoke = _actions(role_statements(synth, key, role_id))["lambda:InvokeFunction"]
    assert all(check_id in json.dumps(resource) for resource in invoke)


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_functions_that_set_timers_may_start_and_stop_clocks_and_manage_schedules_of_the_group(
        synth: Synthesized, key: str) -> None:
    machine_id, _ = only(synth, key, "AWS::StepFunctions::StateMachine")
    _, group = only(synth, key, "AWS::Scheduler::ScheduleGroup")
    group_name = group["Properties"]["Name"]
    for name in ("sla_events", "timers"):
        _, function = function_named(synth, key, name)
        environment = function["Properties"]["Environment"]["Variables"]
        assert environment["CASELINE_SLA_STATE_MACHINE_ARN"] == {"Ref": machine_id}
        assert environment["CASELINE_SCHEDULE_GROUP_NAME"] == group_name
        assert "CASELINE_TIMERS_FUNCTION_ARN" in environment and "CASELINE_SCHEDULER_ROLE_ARN" in environment
        actions = _actions(role_statements(synth, key, function["Properties"]["Role"]["Fn::GetAtt"][0]))
        assert actions["states:StartExecution"] == [{"Ref": machine_id}]
        assert "execution" in json.dumps(actions["states:StopExecution"])
        for verb in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule"):
            assert f"schedule/{group_name}/*" in json.dumps(actions[f"scheduler:{verb}"])
        assert "iam:PassRole" in actions
        wildcard = {action for action, resources in actions.items() if "*" in resources}
        assert wildcard <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_the_scheduler_role_may_invoke_only_the_timers_function(synth: Synthesized, key: str) -> None:
    _, timers = function_named(synth, key, "timers")
    roles = {lid: r for lid, r in synth.resources(key, "AWS::IAM::Role").items()
             if "scheduler.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])}
    ((role_id, _),) = roles.items()
    actions = _actions(role_statements(synth, key, role_id))
    invoke = json.dumps(actions["lambda:InvokeFunction"])
    assert timers["Properties"]["FunctionName"] in invoke or "-timers" in invoke
    assert set(actions) <= {"lambda:InvokeFunction", "sqs:SendMessage", "sqs:GetQueueAttributes",
                            "sqs:GetQueueUrl", "kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*",
                            "kms:GenerateDataKey*"}
    timers_env = timers["Properties"]["Environment"]["Variables"]
    assert timers_env["CASELINE_SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": [role_id, "Arn"]}


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_case_events_that_move_clocks_reach_the_sla_events_function(synth: Synthesized, key: str) -> None:
    consumer_id, _ = function_named(synth, key, "sla_events")
    rules = [r for r in synth.resources(key, "AWS::Events::Rule").values()
             if any(consumer_id in json.dumps(t) for t in r["Properties"].get("Targets", []))]
    assert len(rules) == 1
    detail_types = rules[0]["Properties"]["EventPattern"]["detail-type"]
    assert {"caseline.case.opened", "caseline.case.reply_added", "caseline.case.status_changed",
            "caseline.case.reopened"} <= set(detail_types)
    assert "caseline.case.sla_breach" not in detail_types  # its own announcements never loop back
    assert rules[0]["Properties"]["Targets"][0]["DeadLetterConfig"]


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_failed_clock_executions_raise_an_alarm(synth: Synthesized, key: str) -> None:
    machine_id, _ = only(synth, key, "AWS::StepFunctions::StateMachine")
    alarms = [json.dumps(a["Properties"]) for a in synth.resources(key, "AWS::CloudWatch::Alarm").values()]
    failed = [a for a in alarms if '"ExecutionsFailed"' in a and json.dumps({"Ref": machine_id}) in a]
    assert len(failed) == 1 and '"Threshold": 1' in failed[0]
