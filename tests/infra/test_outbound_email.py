"""Outbound email: the configuration set and its feedback topic, the sending identity, the two functions, the
rule that feeds the sender and what each may do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import Synthesized
from .test_functions import _as_list, role_statements
from .test_realtime import SERVICE_STACKS, function_named, only


def _service(statement: dict[str, Any]) -> str | None:
    principal = statement.get("Principal")
    return principal.get("Service") if isinstance(principal, dict) else None


def _role_of(function: dict[str, Any]) -> str:
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_configuration_set_reports_bounces_complaints_deliveries_and_rejects_to_an_encrypted_topic(
    synth: Synthesized, key: str
) -> None:
    set_id, config_set = only(synth, key, "AWS::SES::ConfigurationSet")
    assert config_set["Properties"]["Name"] == "caseline"
    assert config_set["Properties"]["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"
    _, destination = only(synth, key, "AWS::SES::ConfigurationSetEventDestination")
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": set_id}
    assert sorted(props["EventDestination"]["MatchingEventTypes"]) == ["bounce", "complaint", "delivery", "reject"]
    assert props["EventDestination"]["Enabled"] is True
    topic_ref = props["EventDestination"]["SnsDestination"]["TopicARN"]
    topics = synth.resources(key, "AWS::SNS::Topic")
    assert topic_ref["Ref"] in topics
    key_ref = topics[topic_ref["Ref"]]["Properties"]["KmsMasterKeyId"]
    key_id = key_ref["Fn::GetAtt"][0]
    kms_key = synth.raw(key)["Resources"][key_id]["Properties"]
    assert kms_key["EnableKeyRotation"] is True
    ses_grants = [s for s in kms_key["KeyPolicy"]["Statement"]
                  if _service(s) == "ses.amazonaws.com"]
    assert len(ses_grants) == 1
    assert set(_as_list(ses_grants[0]["Action"])) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert "aws:SourceAccount" in ses_grants[0]["Condition"]["StringEquals"]
    assert "configuration-set/caseline" in json.dumps(ses_grants[0]["Condition"]["ArnLike"])
    policies = [p["Properties"]["PolicyDocument"]["Statement"] for p in
                synth.resources(key, "AWS::SNS::TopicPolicy").values()
                if topic_ref in p["Properties"]["Topics"]]
    publish = [s for statements in policies for s in statements
               if _service(s) == "ses.amazonaws.com"]
    assert publish
    for statement in publish:  # only this account's configuration set may publish
        scoped = {k.lower(): v for block in statement["Condition"].values() for k, v in block.items()}
        assert "aws:sourceaccount" in scoped and "configuration-set/" in json.dumps(scoped["aws:sourcearn"])
    tls_only = [s for statements in policies for s in statements if s["Effect"] == "Deny"]
    assert tls_only and tls_only[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_the_domain_is_the_sending_identity_with_easy_dkim_and_the_configuration_set(
    synth: Synthesized, key: str
) -> None:
    set_id, _ = only(synth, key, "AWS::SES::ConfigurationSet")
    _, identity = only(synth, key, "AWS::SES::EmailIdentity")
    props = identity["Properties"]
    assert props["EmailIdentity"] == "caseline.example.com"
    assert props["ConfigurationSetAttributes"]["ConfigurationSetName"] == {"Ref": set_id}
    dkim_records = [r for r in synth.resources(key, "AWS::Route53::RecordSet").values()
                    if r["Properties"]["Type"] == "CNAME" and "DkimDNSTokenName" in json.dumps(r)]
    assert len(dkim_records) == 3


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_feedback_function_is_subscribed_with_a_dead_letter_queue(synth: Synthesized, key: str) -> None:
    feedback_id, _ = function_named(synth, key, "email_feedback")
    _, destination = only(synth, key, "AWS::SES::ConfigurationSetEventDestination")
    topic_id = destination["Properties"]["EventDestination"]["SnsDestination"]["TopicARN"]["Ref"]
    subscriptions = [s["Properties"] for s in synth.resources(key, "AWS::SNS::Subscription").values()
                     if s["Properties"]["Protocol"] == "lambda"]
    assert len(subscriptions) == 1
    subscription = subscriptions[0]
    assert subscription["TopicArn"] == {"Ref": topic_id}
    assert subscription["Endpoint"] == {"Fn::GetAtt": [feedback_id, "Arn"]}
    queue_id = subscription["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert synth.raw(key)["Resources"][queue_id]["Type"] == "AWS::SQS::Queue"
    permissions = [p["Properties"] for p in synth.resources(key, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "sns.amazonaws.com"]
    assert any(p["SourceArn"] == {"Ref": topic_id} for p in permissions)


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_reply_added_events_reach_the_sender_through_a_rule_with_a_dead_letter_queue(
    synth: Synthesized, key: str
) -> None:
    sender_id, sender = function_named(synth, key, "outbound_email")
    rules = [r["Properties"] for r in synth.resources(key, "AWS::Events::Rule").values()
             if any(t["Arn"] == {"Fn::GetAtt": [sender_id, "Arn"]} for t in r["Properties"].get("Targets", []))]
    assert len(rules) == 1
    assert rules[0]["EventPattern"]["detail-type"] == ["caseline.case.reply_added"]
    [target] = rules[0]["Targets"]
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    env = sender["Properties"]["Environment"]["Variables"]
    assert env["CASELINE_MAIL_SENDER"] == "ses"
    assert env["CASELINE_SES_CONFIGURATION_SET"] == "caseline"
    assert env["CASELINE_SUPPORT_ADDRESSES"] == "support@caseline.example.com"
    assert sender["Properties"]["Timeout"] >= 30


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_only_the_senders_may_send_and_only_as_the_identity_in_the_configuration_set(
    synth: Synthesized, key: str
) -> None:
    """Replies go out from outbound_email; rules' notify/escalate emails from rules_events and timers."""
    for name in ("outbound_email", "rules_events", "timers"):
        _, sender = function_named(synth, key, name)
        send = [s for s in role_statements(synth, key, _role_of(sender))
                if any(str(a).startswith("ses:") for a in _as_list(s["Action"]))]
        assert len(send) == 1, name
        assert set(_as_list(send[0]["Action"])) == {"ses:SendEmail", "ses:SendRawEmail"}
        resources = json.dumps(send[0]["Resource"])
        assert "identity/caseline.example.com" in resources and "configuration-set/caseline" in resources
        assert "*" not in [r for r in _as_list(send[0]["Resource"]) if isinstance(r, str)]
        environment = sender["Properties"]["Environment"]["Variables"]
        assert environment["CASELINE_MAIL_SENDER"] == "ses" and environment["CASELINE_SUPPORT_ADDRESSES"]
    for name in ("email_feedback", "cases_api", "inbound_email"):
        _, other = function_named(synth, key, name)
        assert not [s for s in role_statements(synth, key, _role_of(other))
                    if any(str(a).startswith("ses:Send") for a in _as_list(s["Action"]))]
