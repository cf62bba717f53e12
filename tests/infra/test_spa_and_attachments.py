"""What the browser meets: each app's bundle and `/config.json`, and the attachments bucket it uploads to."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from caseline_cdk.config import DeploymentConfig
from caseline_cdk.constructs.web import built_bundle

from .conftest import BUILT_AGENT, PRIMARY, SECONDARY, Synthesized
from .test_functions import _as_list, role_statements
from .test_realtime import function_named

SERVICE_STACKS = ("service-primary", "service-secondary")


def deployments(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {i: r["Properties"] for i, r in synth.resources("edge", "Custom::CDKBucketDeployment").items()}


def deployment(synth: Synthesized, site: str, what: str) -> dict[str, Any]:
    (props,) = [p for i, p in deployments(synth).items() if i.startswith(f"{site.title()}Site{what}")]
    return props


def asset_files(synth: Synthesized, props: dict[str, Any]) -> dict[str, str]:
    """The files of a deployment's (single) source asset, as staged in the cloud assembly."""
    (key,) = props["SourceObjectKeys"]
    root = synth.outdir / f"asset.{key.removesuffix('.zip')}"
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def shown(expression: Any) -> str:
    """A CloudFormation expression as text, each reference shown as `<...>`."""
    if isinstance(expression, str):
        return expression
    ((function, argument),) = expression.items()
    if function == "Fn::Join":
        return argument[0].join(shown(part) for part in argument[1])
    if function == "Fn::GetAtt":
        return f"<{'.'.join(argument)}>"
    return f"<{argument}>"  # Ref, Fn::ImportValue


def rendered_config(synth: Synthesized, site: str) -> dict[str, Any]:
    """The site's config.json as the deployment writes it, deploy-time values shown as `<...>`.

    BucketDeployment replaces each marker, quotes included, with the JSON text of its value."""
    props = deployment(synth, site, "Config")
    text = asset_files(synth, props)["config.json"]
    for marker, value in props.get("SourceMarkers", [{}])[0].items():
        text = text.replace(marker, shown(value))
    return json.loads(text)


@pytest.mark.parametrize(
    ("site", "pool", "client"),
    [("agent", "StaffPoolDomain", "AgentClient"), ("portal", "CustomersPoolDomain", "PortalClient")],
)
def test_each_app_gets_a_config_json_with_api_websocket_and_cognito(
    synth: Synthesized, site: str, pool: str, client: str
) -> None:
    config = rendered_config(synth, site)
    assert set(config) == {"api_base", "api_key", "ws_url", "auth", "default_locale"}
    assert config["api_base"] == "https://api.caseline.example.com"
    assert config["api_key"] == DeploymentConfig().first_party_api_key  # every API method requires a key
    assert config["ws_url"] == "wss://ws.caseline.example.com"
    assert config["default_locale"] == "en"
    auth = config["auth"]
    assert auth["mode"] == "cognito"
    assert re.fullmatch(
        rf"https://<Caseline-Identity:ExportsOutputRef{pool}\w+>\.auth\.{PRIMARY}\.amazoncognito\.com", auth["domain"]
    )
    assert re.fullmatch(rf"<{client}\w+>", auth["client_id"])
    assert re.fullmatch(rf"https://<{site.title()}SiteDistribution\w+\.DomainName>/", auth["redirect_uri"])
    props = deployment(synth, site, "Config")
    assert props["Prune"] is False  # never deletes the bundle it sits next to
    assert props["SystemMetadata"] == {"cache-control": "no-cache", "content-type": "application/json"}
    assert props["DistributionPaths"] == ["/config.json"]


def test_the_built_agent_app_is_deployed_without_its_local_config(synth: Synthesized) -> None:
    props = deployment(synth, "agent", "Bundle")
    files = asset_files(synth, props)
    assert files == {name: text for name, text in BUILT_AGENT.items() if name != "config.json"}
    assert props["Exclude"] == ["config.json"]  # and pruning spares the deployed one
    assert props["Prune"] is True
    assert props["DistributionPaths"] == ["/*"]
    assert "AgentSiteBucket" in props["DestinationBucketName"]["Ref"]


def test_an_app_not_built_yet_gets_a_placeholder_page(synth: Synthesized) -> None:
    files = asset_files(synth, deployment(synth, "portal", "Bundle"))
    assert list(files) == ["index.html"]
    assert "has not been built" in files["index.html"]


def test_built_bundle_needs_an_index_html(tmp_path: Path) -> None:
    assert built_bundle(tmp_path, "agent") is None
    (tmp_path / "agent" / "dist").mkdir(parents=True)
    assert built_bundle(tmp_path, "agent") is None
    (tmp_path / "agent" / "dist" / "index.html").write_text("<!doctype html>")
    assert built_bundle(tmp_path, "agent") == tmp_path / "agent" / "dist"


def test_content_security_policy_lets_the_apps_reach_live_updates_and_attachments(synth: Synthesized) -> None:
    for policy in synth.resources("edge", "AWS::CloudFront::ResponseHeadersPolicy").values():
        csp = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
        connect = re.search(r"connect-src ([^;]+);", csp["ContentSecurityPolicy"]).group(1).split()
        assert "wss://ws.caseline.example.com" in connect
        assert "https://api.caseline.example.com" in connect
        for region in (PRIMARY, SECONDARY):
            assert f"https://caseline-attachments-111111111111-{region}.s3.{region}.amazonaws.com" in connect


@pytest.mark.parametrize(("key", "region"), [("service-primary", PRIMARY), ("service-secondary", SECONDARY)])
def test_cases_api_signs_attachment_urls_for_its_region_bucket_only(synth: Synthesized, key: str, region: str) -> None:
    bucket = f"caseline-attachments-111111111111-{region}"
    _, cases = function_named(synth, key, "cases_api")
    env = cases["Properties"]["Environment"]["Variables"]
    assert env["CASELINE_ATTACHMENTS_BUCKET"] == bucket
    assert "DataKey" in json.dumps(env["CASELINE_ATTACHMENTS_KMS_KEY_ID"])
    role = cases["Properties"]["Role"]["Fn::GetAtt"][0]
    s3 = [s for s in role_statements(synth, key, role) if any(a.startswith("s3:") for a in _as_list(s["Action"]))]
    assert len(s3) == 1
    assert set(_as_list(s3[0]["Action"])) == {"s3:GetObject", "s3:PutObject"}
    assert _as_list(s3[0]["Resource"]) == [f"arn:aws:s3:::{bucket}/*"]
    kms = [s for s in role_statements(synth, key, role) if "kms:GenerateDataKey" in _as_list(s["Action"])]
    assert kms and all("DataKey" in json.dumps(s["Resource"]) for s in kms)
    for name in ("customers_api", "staff_api", "realtime_fanout"):
        _, other = function_named(synth, key, name)
        role = other["Properties"]["Role"]["Fn::GetAtt"][0]
        assert not [s for s in role_statements(synth, key, role) if "s3:" in json.dumps(s["Action"])], name


@pytest.mark.parametrize(("key", "region"), [("service-primary", PRIMARY), ("service-secondary", SECONDARY)])
def test_attachment_bucket_cors_admits_the_two_apps_for_presigned_put_and_get(
    synth: Synthesized, key: str, region: str
) -> None:
    (cors,) = [
        r["Properties"]
        for i, r in synth.raw(key)["Resources"].items()
        if r["Type"] == "Custom::AWS" and i.startswith("AttachmentsCors")
    ]
    create = cors["Create"]
    rendered = json.dumps(create)
    assert "putBucketCors" in rendered
    assert f"caseline-attachments-111111111111-{region}" in rendered
    assert "AgentSiteDistribution" in rendered and "PortalSiteDistribution" in rendered
    for method in ('\\"GET\\"', '\\"PUT\\"', '\\"HEAD\\"'):
        assert method in rendered
    assert '\\"*\\"' not in rendered  # no wildcard origin
    assert "deleteBucketCors" in json.dumps(cors["Delete"])
