"""Live updates: the WebSocket API, its connection table, the fan-out consumer and the failover name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from .conftest import PRIMARY, SECONDARY, Synthesized
from .test_functions import _as_list, _tag, ours, role_statements

SERVICE_STACKS = ("service-primary", "service-secondary")


def function_named(synth: Synthesized, key: str, name: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, function),) = [(i, f) for i, f in ours(synth, key).items() if _tag(f, "caseline:function") == name]
    return logical_id, function


def only(synth: Synthesized, key: str, resource_type: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = synth.resources(key, resource_type).items()
    return logical_id, resource


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_websocket_api_routes_connect_disconnect_and_default_to_the_connect_function(
    synth: Synthesized, key: str
) -> None:
    api_id, api = only(synth, key, "AWS::ApiGatewayV2::Api")
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    connect_id, _ = function_named(synth, key, "realtime_connect")
    integrations = synth.resources(key, "AWS::ApiGatewayV2::Integration")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for r in synth.resources(key, "AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    for route in routes.values():
        assert route["ApiId"] == {"Ref": api_id}
        # The token arrives as ?token= and the connect function verifies it; see the APIG4 acknowledgment.
        assert route["AuthorizationType"] == "NONE"
        integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[integration_id]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert connect_id in json.dumps(integration["IntegrationUri"])
    permissions = [
        p["Properties"]
        for p in synth.resources(key, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com" and connect_id in json.dumps(p["Properties"])
    ]
    assert len(permissions) == 3
    assert all(api_id in json.dumps(p["SourceArn"]) for p in permissions)


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_websocket_stage_throttles_and_writes_access_logs(synth: Synthesized, key: str) -> None:
    _, stage = only(synth, key, "AWS::ApiGatewayV2::Stage")
    props = stage["Properties"]
    assert props["StageName"] == "live"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}
    log_group = props["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert synth.raw(key)["Resources"][log_group]["Properties"]["RetentionInDays"] == 90
    fields = json.loads(props["AccessLogSettings"]["Format"])
    assert {"requestId", "routeKey", "eventType", "status", "connectionId"} <= set(fields)
    account = [i for i, r in synth.raw(key)["Resources"].items() if r["Type"] == "AWS::ApiGateway::Account"]
    assert set(account) <= set(stage.get("DependsOn", []))  # logging needs the account's CloudWatch role


@pytest.mark.parametrize(("key", "region"), [("service-primary", PRIMARY), ("service-secondary", SECONDARY)])
def test_connection_table_is_regional_with_ttl_pitr_and_the_data_key(synth: Synthesized, key: str, region: str) -> None:
    (table,) = [
        t["Properties"]
        for t in synth.resources(key, "AWS::DynamoDB::GlobalTable").values()
        if t["Properties"]["TableName"] == "caseline-connections"
    ]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    (replica,) = table["Replicas"]  # this region only: connections cannot move between regions
    assert replica["Region"] == region
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "DataKey" in json.dumps(replica["SSESpecification"]["KMSMasterKeyId"])


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_case_events_reach_the_fanout_function_with_dead_letters(synth: Synthesized, key: str) -> None:
    fanout_id, _ = function_named(synth, key, "realtime_fanout")
    rules = [
        r["Properties"]
        for r in synth.resources(key, "AWS::Events::Rule").values()
        if any(fanout_id in json.dumps(t["Arn"]) for t in r["Properties"]["Targets"])
    ]
    (rule,) = rules
    assert rule["EventPattern"] == {"source": ["caseline"], "detail-type": [{"prefix": "caseline.case."}]}
    bus_id, _ = only(synth, key, "AWS::Events::EventBus")
    assert rule["EventBusName"] == {"Ref": bus_id}
    (target,) = rule["Targets"]
    queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert synth.raw(key)["Resources"][queue]["Type"] == "AWS::SQS::Queue"
    invoke_configs = [
        c["Properties"]
        for c in synth.resources(key, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": fanout_id}
    ]
    (invoke,) = invoke_configs
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"]


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_only_the_live_functions_may_manage_connections_and_only_on_this_api(synth: Synthesized, key: str) -> None:
    """The fan-out posts and deletes; the connect function only posts (its pong); nobody else touches them."""
    api_id, _ = only(synth, key, "AWS::ApiGatewayV2::Api")
    expected_verbs = {"realtime_fanout": {"POST", "DELETE"}, "realtime_connect": {"POST"}, "cases_api": set()}
    for name, verbs in expected_verbs.items():
        _, function = function_named(synth, key, name)
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        manage = [
            s for s in role_statements(synth, key, role) if "execute-api:ManageConnections" in _as_list(s["Action"])
        ]
        if not verbs:
            assert manage == [], name
            continue
        resources = [r for statement in manage for r in _as_list(statement["Resource"])]
        assert "*" not in resources
        rendered = [json.dumps(r) for r in resources]
        assert all(f'"Ref": "{api_id}"' in r and "/live/" in r and "@connections/*" in r for r in rendered)
        assert verbs == {verb for r in rendered for verb in ("POST", "DELETE") if f"/{verb}/" in r}, name


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_live_functions_use_the_connection_table_and_the_fanout_only_reads_the_case_table(
    synth: Synthesized, key: str
) -> None:
    resources = synth.raw(key)["Resources"]
    (connections_id,) = [
        i for i, r in resources.items() if r["Type"] == "AWS::DynamoDB::GlobalTable"
        and r["Properties"]["TableName"] == "caseline-connections"
    ]  # fmt: skip
    for name in ("realtime_connect", "realtime_fanout"):
        _, function = function_named(synth, key, name)
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = role_statements(synth, key, role)
        on_connections = {
            a for s in statements if connections_id in json.dumps(s["Resource"]) for a in _as_list(s["Action"])
        }
        assert {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"} <= on_connections, name
        on_other_tables = {
            a
            for s in statements
            if connections_id not in json.dumps(s["Resource"])
            for a in _as_list(s["Action"])
            if a.startswith("dynamodb:")
        }
        if name == "realtime_fanout":
            assert on_other_tables == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
        else:
            assert on_other_tables == set()


@pytest.mark.parametrize(("key", "region"), [("service-primary", PRIMARY), ("service-secondary", SECONDARY)])
def test_live_functions_know_the_table_the_endpoint_and_the_staff_pool(
    synth: Synthesized, key: str, region: str
) -> None:
    api_id, _ = only(synth, key, "AWS::ApiGatewayV2::Api")
    for name in ("realtime_connect", "realtime_fanout"):
        _, function = function_named(synth, key, name)
        env = function["Properties"]["Environment"]["Variables"]
        assert "Connections" in json.dumps(env["CASELINE_CONNECTIONS_TABLE_NAME"])
        endpoint = env["CASELINE_WEBSOCKET_ENDPOINT"]["Fn::Join"][1]
        assert endpoint[0] == "https://" and endpoint[1] == {"Ref": api_id}
        assert endpoint[2] == f".execute-api.{region}." and endpoint[-1] == "/live"
        assert env["CASELINE_ADAPTERS"] == "aws"
    _, connect = function_named(synth, key, "realtime_connect")
    env = connect["Properties"]["Environment"]["Variables"]
    issuer = json.dumps(env["CASELINE_COGNITO_ISSUER"])
    client = json.dumps(env["CASELINE_COGNITO_CLIENT_ID"])
    if key == "service-primary":
        assert "StaffPool" in issuer and "ProviderURL" in issuer  # https://cognito-idp.<region>.amazonaws.com/<id>
        assert "AgentClient" in client
    else:  # the pool and the client live in the primary region; read through cross-region references
        assert "CrossRegion" in issuer or "ExportsReader" in issuer
        assert "CrossRegion" in client or "ExportsReader" in client


@pytest.mark.parametrize(
    ("key", "region", "role"), [("service-primary", PRIMARY, "PRIMARY"), ("service-secondary", SECONDARY, "SECONDARY")]
)
def test_ws_name_fails_over_with_the_region_health_check(synth: Synthesized, key: str, region: str, role: str) -> None:
    template = synth.template(key)
    domain_id, _ = only(synth, key, "AWS::ApiGatewayV2::DomainName")
    template.has_resource_properties(
        "AWS::ApiGatewayV2::DomainName",
        {
            "DomainName": "ws.caseline.example.com",
            "DomainNameConfigurations": [Match.object_like({"EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"})],
        },
    )
    template.has_resource_properties(
        "AWS::ApiGatewayV2::ApiMapping", {"DomainName": {"Ref": domain_id}, "Stage": "live"}
    )
    check_id, _ = only(synth, key, "AWS::Route53::HealthCheck")
    template.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": "ws.caseline.example.com.",
            "Type": "A",
            "Failover": role,
            "SetIdentifier": f"ws-{region}",
            "HealthCheckId": {"Ref": check_id},
            "AliasTarget": Match.object_like({"EvaluateTargetHealth": True}),
        },
    )
    outputs = synth.raw(key)["Outputs"]
    assert outputs["WebSocketUrl"]["Value"] == "wss://ws.caseline.example.com"
    regional = outputs["RegionalWebSocketUrl"]["Value"]["Fn::Join"][1]
    assert regional[0] == "wss://" and regional[-1] == "/live"
