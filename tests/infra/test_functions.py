"""Every Lambda function is made by the factory and carries what the factory promises."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import FUNCTION_NAMES, Synthesized

SERVICE_STACKS = ("service-primary", "service-secondary")
# Functions the CDK itself adds for deploy-time plumbing (AwsCustomResource, cross-region references).
CDK_PROVIDERS = ("AWS679f53fac002430cb0da5b7982bd2287", "CustomCrossRegionExport")
# Resource "*" is only acceptable for actions that have no resource-level permissions at all.
STAR_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}
DATA_SERVICES = ("dynamodb:", "s3:", "kms:", "sqs:", "events:", "cognito-idp:")


def _tag(function: dict[str, Any], key: str) -> str | None:
    for tag in function["Properties"].get("Tags", []):
        if tag["Key"] == key:
            return tag["Value"]
    return None


def ours(synth: Synthesized, key: str) -> dict[str, dict[str, Any]]:
    functions = synth.resources(key, "AWS::Lambda::Function")
    return {lid: f for lid, f in functions.items() if _tag(f, "caseline:function")}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(synth: Synthesized, key: str, role_logical_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in synth.resources(key, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    role = synth.raw(key)["Resources"][role_logical_id]["Properties"]
    for inline in role.get("Policies", []):
        statements.extend(inline["PolicyDocument"]["Statement"])
    return statements


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_every_function_is_ours_or_a_known_cdk_provider(synth: Synthesized, key: str) -> None:
    functions = synth.resources(key, "AWS::Lambda::Function")
    foreign = [lid for lid in functions if lid not in ours(synth, key) and not lid.startswith(CDK_PROVIDERS)]
    assert foreign == []
    assert sorted(_tag(f, "caseline:function") for f in ours(synth, key).values()) == sorted(FUNCTION_NAMES)


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_functions_run_python_312_on_arm64_with_both_layers(synth: Synthesized, key: str) -> None:
    for function in ours(synth, key).values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "handler.lambda_handler"
        powertools, core, *extras = props["Layers"]
        assert "Ref" in powertools  # the SSM parameter holding the pinned Powertools release's ARN
        assert "Ref" in core and core["Ref"].startswith("FunctionsCoreLayer")
        # optional-dependency layers only where a spec asks (tests/infra/test_email.py checks what they hold)
        expected = ["FunctionsExtraLayerMail"] if _tag(function, "caseline:function") == "inbound_email" else []
        assert [layer["Ref"][: len("FunctionsExtraLayerMail")] for layer in extras] == expected


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_powertools_layer_is_the_pinned_release_from_ssm(synth: Synthesized, key: str) -> None:
    parameters = synth.raw(key)["Parameters"]
    powertools = [
        p for p in parameters.values() if "/aws/service/powertools/python/arm64/python3.12/" in str(p)
    ]
    assert len(powertools) == 1
    assert powertools[0]["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert powertools[0]["Default"].endswith("/3.37.0")


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_functions_trace_and_log_json_with_retention(synth: Synthesized, key: str) -> None:
    log_groups = synth.resources(key, "AWS::Logs::LogGroup")
    for function in ours(synth, key).values():
        props = function["Properties"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        group = log_groups[props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Properties"]["RetentionInDays"] == 90


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_environment_comes_from_the_settings_model(synth: Synthesized, key: str) -> None:
    for function in ours(synth, key).values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["CASELINE_ADAPTERS"] == "aws"
        assert env["CASELINE_TABLE_NAME"] == "caseline"
        assert env["CASELINE_IDEMPOTENCY_TABLE_NAME"] == "caseline-idempotency"
        assert env["CASELINE_EVENT_BUS_NAME"] == "caseline"
        assert env["POWERTOOLS_SERVICE_NAME"] == _tag(function, "caseline:function")
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Caseline"


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_each_function_has_its_own_role(synth: Synthesized, key: str) -> None:
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in ours(synth, key).values()]
    assert len(set(roles)) == len(roles)
    every_function = synth.resources(key, "AWS::Lambda::Function").values()
    users = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in every_function]
    assert all(users.count(role) == 1 for role in roles)
    for role in roles:
        assert "ManagedPolicyArns" not in synth.raw(key)["Resources"][role]["Properties"]


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_no_role_has_a_wildcard_action_or_data_access_on_any_resource(synth: Synthesized, key: str) -> None:
    for function in ours(synth, key).values():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = role_statements(synth, key, role)
        assert statements, role
        for statement in statements:
            actions = _as_list(statement["Action"])
            assert not any(a == "*" or a.endswith(":*") for a in actions), (role, actions)
            if "*" in _as_list(statement["Resource"]):
                assert set(actions) <= STAR_ALLOWED, (role, actions)
                assert not any(a.startswith(DATA_SERVICES) for a in set(actions) - STAR_ALLOWED)


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_api_functions_never_scan_and_only_staff_manages_groups(synth: Synthesized, key: str) -> None:
    for function in ours(synth, key).values():
        name = _tag(function, "caseline:function")
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        actions = {a for s in role_statements(synth, key, role) for a in _as_list(s["Action"])}
        assert "dynamodb:Scan" not in actions
        group_admin = {"cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup"}
        assert (group_admin <= actions) is (name == "staff_api")
        if name == "health":
            assert actions & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} == set()


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_asynchronous_invocations_end_in_a_dead_letter_destination(synth: Synthesized, key: str) -> None:
    """Functions invoked by EventBridge need an on-failure destination; the stream mapping has its own."""
    configs = synth.resources(key, "AWS::Lambda::EventInvokeConfig")
    with_destination = {c["Properties"]["FunctionName"]["Ref"] for c in configs.values()
                        if c["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]}  # fmt: skip
    for rule in synth.resources(key, "AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            arn = target["Arn"]
            if isinstance(arn, dict) and "Fn::GetAtt" in arn and arn["Fn::GetAtt"][0] in ours(synth, key):
                assert arn["Fn::GetAtt"][0] in with_destination
                assert "DeadLetterConfig" in target
    mappings = synth.resources(key, "AWS::Lambda::EventSourceMapping")
    for mapping in mappings.values():
        props = mapping["Properties"]
        assert props["DestinationConfig"]["OnFailure"]["Destination"]
        assert props["BisectBatchOnFunctionError"] is True
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
