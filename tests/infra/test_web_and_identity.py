"""Web hosting with origin failover, and the two user pools with their app clients and SSO hook."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from caseline_cdk.config import DeploymentConfig, SsoProvider
from caseline_cdk.constructs.identity import StaffDirectory

from .conftest import PRIMARY, SECONDARY, Synthesized


def test_each_site_fails_over_to_the_secondary_bucket(synth: Synthesized) -> None:
    distributions = synth.resources("edge", "AWS::CloudFront::Distribution")
    assert len(distributions) == 2
    for distribution in distributions.values():
        config = distribution["Properties"]["DistributionConfig"]
        ((group,),) = [config["OriginGroups"]["Items"]]
        assert group["FailoverCriteria"]["StatusCodes"]["Items"] == [500, 502, 503, 504]
        members = [m["OriginId"] for m in group["Members"]["Items"]]
        origins = {o["Id"]: o for o in config["Origins"] if o["Id"] in members}
        domains = json.dumps([o["DomainName"] for o in origins.values()])
        assert f"s3.{SECONDARY}" in domains  # the failover copy, named across regions
        assert all(o["OriginAccessControlId"] for o in origins.values())
        assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
        assert "ResponseHeadersPolicyId" in config["DefaultCacheBehavior"]
        fallback = {
            (e["ErrorCode"], e["ResponseCode"], e["ResponsePagePath"]) for e in config["CustomErrorResponses"]
        }
        assert fallback == {(403, 200, "/index.html"), (404, 200, "/index.html")}
        assert config["Logging"]["Bucket"]


def test_security_headers_policy(synth: Synthesized) -> None:
    synth.template("edge").has_resource_properties(
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": Match.object_like(
                {
                    "SecurityHeadersConfig": Match.object_like(
                        {
                            "StrictTransportSecurity": Match.object_like(
                                {"AccessControlMaxAgeSec": 31536000}
                            ),
                            "ContentSecurityPolicy": Match.object_like(
                                {
                                    "ContentSecurityPolicy": Match.string_like_regexp(
                                        "https://api.caseline.example.com"
                                    )
                                }
                            ),
                            "FrameOptions": {"FrameOption": "DENY", "Override": True},
                            "ContentTypeOptions": {"Override": True},
                        }
                    )
                }
            )
        },
    )


def test_web_buckets_replicate_and_failover_buckets_admit_only_our_cloudfront(synth: Synthesized) -> None:
    replicated = [
        b
        for b in synth.resources("edge", "AWS::S3::Bucket").values()
        if "ReplicationConfiguration" in b["Properties"]
    ]
    assert len(replicated) == 2
    policies = synth.resources("edge-origin", "AWS::S3::BucketPolicy").values()
    grants = [
        s
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert len(grants) == 2
    for grant in grants:
        assert grant["Action"] == "s3:GetObject"
        assert grant["Condition"]["StringEquals"] == {"AWS:SourceAccount": "111111111111"}


def test_staff_pool_is_invite_only_with_mfa_available_and_role_groups(synth: Synthesized) -> None:
    template = synth.template("identity")
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "UserPoolName": "caseline-staff",
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "MfaConfiguration": "OPTIONAL",
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "DeletionProtection": "ACTIVE",
            "Schema": Match.array_with([Match.object_like({"Name": "caseline_id"})]),
        },
    )
    groups = {
        g["Properties"]["GroupName"]
        for g in synth.resources("identity", "AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {"agent", "supervisor", "admin", "customer"}


def test_customer_pool_allows_self_sign_up_with_email_verification(synth: Synthesized) -> None:
    synth.template("identity").has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "UserPoolName": "caseline-customers",
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
            "AutoVerifiedAttributes": ["email"],
            "MfaConfiguration": "OPTIONAL",
        },
    )


def test_app_clients_are_public_pkce_clients_bound_to_their_site(synth: Synthesized) -> None:
    clients = synth.resources("edge", "AWS::Cognito::UserPoolClient")
    assert len(clients) == 2
    for client in clients.values():
        props = client["Properties"]
        assert props["GenerateSecret"] is False
        assert props["AllowedOAuthFlows"] == ["code"]
        assert "Distribution" in json.dumps(props["CallbackURLs"])
        assert "custom:caseline_id" not in props["WriteAttributes"]


@pytest.mark.parametrize(
    "sso",
    [
        SsoProvider(name="Corp", saml_metadata_url="https://idp.example.com/metadata.xml"),
        SsoProvider(
            name="Corp",
            oidc_issuer="https://idp.example.com",
            oidc_client_id="id",
            oidc_client_secret_name="caseline/sso",
        ),
    ],
)
def test_sso_hook_adds_an_identity_provider(sso: SsoProvider, tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(), "Sso", env=cdk.Environment(account="111111111111", region=PRIMARY))
    staff = StaffDirectory(stack, "Staff", config=DeploymentConfig(sso=sso, functions_dir=tmp_path))
    template = Template.from_stack(stack)
    expected = "SAML" if sso.saml_metadata_url else "OIDC"
    template.has_resource_properties(
        "AWS::Cognito::UserPoolIdentityProvider", {"ProviderName": "Corp", "ProviderType": expected}
    )
    assert len(staff.identity_providers) == 1
