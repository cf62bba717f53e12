"""The REST API: authorizer on every non-public method, routing, limits, WAF, domain and failover."""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from typing import Any

import pytest
from aws_cdk.assertions import Match
from caseline.api.catalog import ApiFunction, function_for_path
from caseline_cdk.config import ConfigError
from caseline_cdk.constructs.firewall import decimal_greater_than
from caseline_cdk.routes import api_routes
from hypothesis import given
from hypothesis import strategies as st

from .conftest import PRIMARY, ROOT, SECONDARY, Synthesized

SERVICE_STACKS = ("service-primary", "service-secondary")
OPENAPI = json.loads((ROOT / "schemas" / "openapi.json").read_text())
# (method, path) of every documented operation, and the ones the document marks public (no security).
OPERATIONS = sorted(
    (method.upper(), path) for path, ops in OPENAPI["paths"].items() for method in ops if method != "parameters"
)
PUBLIC = {(m, p) for m, p in OPERATIONS if not OPENAPI["paths"][p][m.lower()].get("security")}


def resource_paths(synth: Synthesized, key: str) -> dict[str, str]:
    """Logical id of each API resource -> its full path (the root resource is '/')."""
    resources = synth.resources(key, "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def methods(synth: Synthesized, key: str) -> list[tuple[str, str, dict[str, Any]]]:
    paths = resource_paths(synth, key)
    found = []
    for method in synth.resources(key, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        found.append((props["HttpMethod"], path, props))
    return found


def function_of(synth: Synthesized, key: str, props: dict[str, Any]) -> str:
    uri = str(props["Integration"]["Uri"])
    for logical_id, function in synth.resources(key, "AWS::Lambda::Function").items():
        if logical_id in uri:
            return next(t["Value"] for t in function["Properties"]["Tags"] if t["Key"] == "caseline:function")
    raise AssertionError(f"no function behind {uri}")


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_every_non_public_method_has_the_cognito_authorizer_and_an_api_key(synth: Synthesized, key: str) -> None:
    authorizers = synth.resources(key, "AWS::ApiGateway::Authorizer")
    ((authorizer_id, authorizer),) = authorizers.items()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert len(authorizer["Properties"]["ProviderARNs"]) == 2  # staff and customer pools
    all_methods = methods(synth, key)
    assert len(all_methods) > 20
    for verb, path, props in all_methods:
        if verb == "OPTIONS":  # CORS preflight, answered by API Gateway without a token
            assert props["Integration"]["Type"] == "MOCK"
        elif (verb, path) in PUBLIC:
            assert props["AuthorizationType"] == "NONE"
        else:
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS", (verb, path)
            assert props["AuthorizerId"] == {"Ref": authorizer_id}, (verb, path)
            assert props["ApiKeyRequired"] is True, (verb, path)


def concrete(path: str) -> list[str]:
    """A request path for a documented path: every `{parameter}` filled with a sample value."""
    return [re.sub(r"^\{[^}]+\}$", "01HSAMPLE", segment) for segment in path.strip("/").split("/")]


def gateway_match(resources: set[str], segments: list[str]) -> str | None:
    """The API Gateway resource a request path lands on: a literal segment before a `{parameter}`, and
    `{proxy+}` takes whatever is left."""

    def walk(prefix: str, rest: list[str]) -> str | None:
        if not rest:
            return prefix or "/" if (prefix or "/") in resources else None
        children = {r[len(prefix) + 1 :].split("/", 1)[0] for r in resources if r.startswith(prefix + "/")}
        head, tail = rest[0], rest[1:]
        if head in children and (found := walk(f"{prefix}/{head}", tail)):
            return found
        for child in sorted(c for c in children if c.startswith("{") and not c.endswith("+}")):
            if found := walk(f"{prefix}/{child}", tail):
                return found
        greedy = [c for c in children if c.endswith("+}")]
        return f"{prefix}/{greedy[0]}" if greedy else None

    return walk("", segments)


@cache
def resolver_routes(function: str) -> set[tuple[str, str]]:
    """(method, path) the function's own Powertools resolver serves, read from its handler module."""
    handler = ROOT / "functions" / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"routes_of_{function}", handler)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.app
    return {
        (route.method.upper(), re.sub(r"<(\w+)>", r"{\1}", route.path))
        for route in app._static_routes + app._dynamic_routes
    }


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_every_documented_operation_reaches_the_function_that_serves_it(synth: Synthesized, key: str) -> None:
    """Every path of schemas/openapi.json is routed, with its method, to the catalog's function, and that
    function's resolver really has the route; the authorizer guards every operation the document secures."""
    routed = {path: {} for path in resource_paths(synth, key).values()}
    for verb, path, props in methods(synth, key):
        routed.setdefault(path, {})[verb] = props
    assert len(OPERATIONS) > 30
    for verb, path in OPERATIONS:
        resource = gateway_match(set(routed), concrete(path))
        assert resource is not None, f"{verb} {path} is not routed"
        props = routed[resource].get(verb) or routed[resource].get("ANY")
        assert props is not None, f"{verb} {path} lands on {resource}, which has no {verb} or ANY method"
        assert props["Integration"]["Type"] == "AWS_PROXY"
        expected = function_for_path(path)
        assert expected is not None
        assert function_of(synth, key, props) == expected.name, (verb, path)
        assert (verb, path) in resolver_routes(expected.name), f"{expected.name} does not serve {verb} {path}"
        if (verb, path) in PUBLIC:
            assert props["AuthorizationType"] == "NONE", (verb, path)
        else:
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS", (verb, path)


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_only_documented_roots_are_deployed_and_public_routes_are_exact(synth: Synthesized, key: str) -> None:
    """Routes only the local runtime serves (the dev sign-in) never reach AWS; nothing hides under /health."""
    documented_roots = {p.strip("/").split("/")[0] for _, p in OPERATIONS}
    for verb, path, _ in methods(synth, key):
        if verb != "OPTIONS" and path != "/":
            assert path.strip("/").split("/")[0] in documented_roots, (verb, path)
    public_methods = {
        (v, p) for v, p, props in methods(synth, key) if v != "OPTIONS" and props["AuthorizationType"] == "NONE"
    }
    assert public_methods == PUBLIC


def test_route_derivation_follows_the_document_and_the_catalog() -> None:
    document = {
        "paths": {
            "/health": {"get": {}},
            "/cases": {"post": {}},
            "/cases/{case_id}/attachments/uploads": {"post": {}},
            "/merges/{merge_id}/undo": {"post": {}},
        }
    }
    catalog = (
        ApiFunction("cases_api", ("cases", "merges", "views")),
        ApiFunction("dev_auth", ("auth",)),
        ApiFunction("health", ("health",), public=True),
    )
    routes = {r.function.name: (r.paths, r.methods) for r in api_routes(document, catalog)}
    assert routes == {
        "cases_api": (("/cases", "/cases/{proxy+}", "/merges/{proxy+}"), ("ANY",)),
        "health": (("/health",), ("GET",)),
    }
    document["paths"]["/reports"] = {"get": {}}
    with pytest.raises(ConfigError, match="reports"):
        api_routes(document, catalog)


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_stage_logs_traces_and_throttles(synth: Synthesized, key: str) -> None:
    synth.template(key).has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "live",
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp("requestId"),
            },
            "MethodSettings": Match.array_with(
                [Match.object_like({"ThrottlingRateLimit": 500, "ThrottlingBurstLimit": 1000, "LoggingLevel": "ERROR"})]
            ),
        },
    )


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_usage_plans_throttle_first_party_and_meter_external_systems(synth: Synthesized, key: str) -> None:
    plans = {
        p["Properties"]["UsagePlanName"]: p["Properties"]
        for p in synth.resources(key, "AWS::ApiGateway::UsagePlan").values()
    }
    assert set(plans) == {"caseline-first-party", "caseline-crm", "caseline-billing"}
    assert "Quota" not in plans["caseline-first-party"]
    for system in ("caseline-crm", "caseline-billing"):
        assert plans[system]["Quota"] == {"Limit": 200_000, "Period": "DAY"}
        assert plans[system]["Throttle"] == {"RateLimit": 20, "BurstLimit": 40}
    assert len(synth.resources(key, "AWS::ApiGateway::UsagePlanKey")) == 3


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_waf_protects_the_stage_with_managed_rules_rate_and_size_limits(synth: Synthesized, key: str) -> None:
    ((acl_id, acl),) = synth.resources(key, "AWS::WAFv2::WebACL").items()
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    assert acl["Properties"]["Scope"] == "REGIONAL"
    for group in (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ):
        assert rules[group]["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
    assert rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"] == {
        "Limit": 3000,
        "AggregateKeyType": "IP",
    }
    size = rules["max-body-size"]["Statement"]["RegexMatchStatement"]
    assert size["RegexString"] == decimal_greater_than(1_048_576)
    assert len(size["RegexString"]) <= 200  # WAF's limit for a regex
    ((association,),) = [list(synth.resources(key, "AWS::WAFv2::WebACLAssociation").values())]
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert "Stage" in str(association["Properties"]["ResourceArn"])


@given(
    limit=st.integers(min_value=0, max_value=10**9),
    value=st.integers(min_value=0, max_value=10**12),
    zeros=st.integers(0, 3),
)
def test_size_regex_matches_exactly_the_numbers_above_the_limit(limit: int, value: int, zeros: int) -> None:
    pattern = re.compile(decimal_greater_than(limit))
    assert bool(pattern.match("0" * zeros + str(value))) is (value > limit)


def test_size_regex_edges() -> None:
    pattern = re.compile(decimal_greater_than(1_048_576))
    assert not pattern.match("1048576")
    assert pattern.match("1048577")
    assert pattern.match("99999999")
    assert not pattern.match("abc")


@pytest.mark.parametrize(("key", "role"), [("service-primary", "PRIMARY"), ("service-secondary", "SECONDARY")])
def test_failover_record_and_health_check_per_region(synth: Synthesized, key: str, role: str) -> None:
    region = PRIMARY if role == "PRIMARY" else SECONDARY
    template = synth.template(key)
    template.has_resource_properties(
        "AWS::Route53::HealthCheck",
        {
            "HealthCheckConfig": Match.object_like(
                {
                    "Type": "HTTPS",
                    "ResourcePath": "/live/health",
                    "FullyQualifiedDomainName": Match.any_value(),
                    "FailureThreshold": 3,
                }
            )
        },
    )
    ((check_id, check),) = synth.resources(key, "AWS::Route53::HealthCheck").items()
    assert f"execute-api.{region}" in str(check["Properties"]["HealthCheckConfig"]["FullyQualifiedDomainName"])
    template.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": "api.caseline.example.com.",
            "Type": "A",
            "Failover": role,
            "SetIdentifier": f"api-{region}",
            "HealthCheckId": {"Ref": check_id},
            "AliasTarget": Match.object_like({"EvaluateTargetHealth": True}),
        },
    )
    template.has_resource_properties(
        "AWS::ApiGateway::DomainName",
        {
            "DomainName": "api.caseline.example.com",
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "SecurityPolicy": "TLS_1_2",
        },
    )
    template.has_resource_properties(
        "AWS::CertificateManager::Certificate",
        {"DomainName": "api.caseline.example.com", "ValidationMethod": "DNS"},
    )


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_cors_preflight_allows_only_the_two_web_apps(synth: Synthesized, key: str) -> None:
    options = [props for verb, _, props in methods(synth, key) if verb == "OPTIONS"]
    assert options
    for props in options:
        (response,) = props["Integration"]["IntegrationResponses"]
        origin = str(response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"])
        echoed = str(response["ResponseTemplates"]["application/json"])
        assert "AgentSiteDistribution" in origin
        assert "PortalSiteDistribution" in echoed
        assert "'*'" not in origin
        assert "If-Match" in response["ResponseParameters"]["method.response.header.Access-Control-Allow-Headers"]


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_gateway_refusals_are_problems_the_browser_can_read(synth: Synthesized, key: str) -> None:
    """401/403/429 from API Gateway itself (before our functions) carry CORS headers and a problem+json body."""
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.raw(key)["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::GatewayResponse"
    }
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for props in responses.values():
        headers = props["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.origin"
        assert headers["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        body = props["ResponseTemplates"]["application/json"]
        assert '"type": "https://caseline.dev/problems/gateway"' in body and "$context.requestId" in body
