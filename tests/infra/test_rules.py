"""Automation rules in the service stacks: the rules_events consumer behind its event rule, its timer grants,
and the webhook signing secret that only the functions calling webhooks may read."""

from __future__ import annotations

import json

import pytest
from caseline.services.rule_runner import EVENT_TYPES

from .conftest import Synthesized
from .test_functions import role_statements
from .test_realtime import function_named, only
from .test_sla import _actions

SERVICE_STACKS = ("service-primary", "service-secondary")


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_the_events_rules_listen_to_reach_the_rules_function_with_dead_letters(synth: Synthesized, key: str) -> None:
    consumer_id, function = function_named(synth, key, "rules_events")
    rules = [r for r in synth.resources(key, "AWS::Events::Rule").values()
             if any(consumer_id in json.dumps(t) for t in r["Properties"].get("Targets", []))]
    assert len(rules) == 1
    pattern = rules[0]["Properties"]["EventPattern"]
    assert pattern["detail-type"] == sorted(EVENT_TYPES)
    assert {"caseline.case.opened", "caseline.case.sla_breach"} <= set(pattern["detail-type"])
    assert "caseline.case.updated" not in pattern["detail-type"]  # its own changes never loop back
    assert rules[0]["Properties"]["Targets"][0]["DeadLetterConfig"]
    assert function["Properties"]["Timeout"] == 60


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_the_rules_function_may_set_timers_and_read_only_the_webhook_secret(synth: Synthesized, key: str) -> None:
    secret_id, secret = only(synth, key, "AWS::SecretsManager::Secret")
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] == 64
    _, group = only(synth, key, "AWS::Scheduler::ScheduleGroup")
    for name in ("rules_events", "timers"):
        _, function = function_named(synth, key, name)
        environment = function["Properties"]["Environment"]["Variables"]
        assert environment["CASELINE_WEBHOOK_SECRET_ARN"] == {"Ref": secret_id}
        actions = _actions(role_statements(synth, key, function["Properties"]["Role"]["Fn::GetAtt"][0]))
        assert actions["secretsmanager:GetSecretValue"] == [{"Ref": secret_id}]
        assert f"schedule/{group['Properties']['Name']}/*" in json.dumps(actions["scheduler:CreateSchedule"])
        wildcard = {action for action, resources in actions.items() if "*" in resources}
        assert wildcard <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    _, rules_function = function_named(synth, key, "rules_events")
    environment = rules_function["Properties"]["Environment"]["Variables"]
    assert "CASELINE_TIMERS_FUNCTION_ARN" in environment and "CASELINE_SCHEDULER_ROLE_ARN" in environment
    readers = [p for p in synth.resources(key, "AWS::IAM::Policy").values()
               if "secretsmanager:GetSecretValue" in json.dumps(p["Properties"]["PolicyDocument"])]
    assert len(readers) == 2
