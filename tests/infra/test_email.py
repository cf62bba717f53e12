"""Inbound email: the receipt rule set and its rule, the inbound bucket and who may write to it, the function's
grants and dead letters, and lingua riding in that function's layer only."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from caseline.settings import Settings
from caseline_cdk.app import build_app, new_app
from caseline_cdk.build import LambdaBuild
from caseline_cdk.config import ConfigError, DeploymentConfig
from caseline_cdk.constructs.email import RAW_PREFIX, RULE_NAME, RULE_SET_NAME, InboundEmail
from caseline_cdk.constructs.functions import FunctionFactory, FunctionSpec, Invocation
from caseline_cdk.constructs.storage import DataKey

from .conftest import PRIMARY, SECONDARY, Synthesized
from .test_functions import _as_list, role_statements
from .test_realtime import function_named, only

SERVICE_STACKS = (("service-primary", PRIMARY), ("service-secondary", SECONDARY))
ACCOUNT = DeploymentConfig().account
SUPPORT = "support@caseline.example.com"


def _rule_arn(region: str) -> str:
    return f"arn:aws:ses:{region}:{ACCOUNT}:receipt-rule-set/{RULE_SET_NAME}:receipt-rule/{RULE_NAME}"


def _resolved(value: Any, region: str) -> str:
    """Fn::Join of pseudo parameters (the stack's own region and account) as the string it becomes."""
    text = json.dumps(value)
    for name, actual in (("AWS::Partition", "aws"), ("AWS::Region", region), ("AWS::AccountId", ACCOUNT)):
        text = text.replace(json.dumps({"Ref": name}), json.dumps(actual))
    data = json.loads(text)
    if isinstance(data, dict) and "Fn::Join" in data:
        separator, parts = data["Fn::Join"]
        if all(isinstance(part, str) for part in parts):
            return separator.join(parts)
    return data if isinstance(data, str) else json.dumps(data)


def _inbound_bucket(synth: Synthesized, key: str) -> str:
    (bucket_id,) = [i for i in synth.resources(key, "AWS::S3::Bucket") if i.startswith("EmailBucket")]
    return bucket_id


@pytest.mark.parametrize(("key", "region"), SERVICE_STACKS)
def test_the_rule_stores_then_invokes_for_the_support_addresses_with_tls_and_scanning(
    synth: Synthesized, key: str, region: str
) -> None:
    _, rule_set = only(synth, key, "AWS::SES::ReceiptRuleSet")
    assert rule_set["Properties"]["RuleSetName"] == RULE_SET_NAME
    _, rule = only(synth, key, "AWS::SES::ReceiptRule")
    props = rule["Properties"]
    assert props["RuleSetName"] == RULE_SET_NAME
    spec = props["Rule"]
    assert spec["Name"] == RULE_NAME and spec["Enabled"] is True
    assert spec["Recipients"] == ["caseline.example.com"]  # the domain: replies come to plus addresses
    assert spec["TlsPolicy"] == "Require" and spec["ScanEnabled"] is True
    store, invoke = spec["Actions"]  # S3 first, so the object exists when the function runs
    assert store["S3Action"]["BucketName"] == {"Ref": _inbound_bucket(synth, key)}
    assert store["S3Action"]["ObjectKeyPrefix"] == RAW_PREFIX
    ses_role = store["S3Action"]["IamRoleArn"]["Fn::GetAtt"][0]
    assert "KmsKeyArn" not in store["S3Action"]  # no client-side encryption: the bucket's SSE-KMS applies
    function_id, _ = function_named(synth, key, "inbound_email")
    assert invoke["LambdaAction"] == {"FunctionArn": {"Fn::GetAtt": [function_id, "Arn"]}, "InvocationType": "Event"}
    # SES checks its access while creating the rule: the grants must already exist
    depends = set(rule.get("DependsOn", []))
    assert ses_role in depends and any(d.startswith("EmailBucketPolicy") for d in depends)
    assert any("SesInvoke" in d for d in depends)


@pytest.mark.parametrize(("key", "region"), SERVICE_STACKS)
def test_the_rule_set_is_made_active_by_a_custom_resource(synth: Synthesized, key: str, region: str) -> None:
    activations = [r for r in synth.resources(key, "Custom::AWS").values()
                   if "setActiveReceiptRuleSet" in json.dumps(r["Properties"].get("Create", ""))]  # fmt: skip
    assert len(activations) == 1
    create = json.loads(_resolved(activations[0]["Properties"]["Create"], region))
    assert create["parameters"] == {"RuleSetName": RULE_SET_NAME}
    delete = json.loads(_resolved(activations[0]["Properties"]["Delete"], region))
    assert delete["action"] == "setActiveReceiptRuleSet" and delete["parameters"] == {}


@pytest.mark.parametrize(("key", "region"), SERVICE_STACKS)
def test_the_inbound_bucket_is_encrypted_private_tls_only_and_expires_raw_mail(
    synth: Synthesized, key: str, region: str
) -> None:
    bucket_id = _inbound_bucket(synth, key)
    bucket = synth.raw(key)["Resources"][bucket_id]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert encryption["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 400 and rule["Status"] == "Enabled"


@pytest.mark.parametrize(("key", "region"), SERVICE_STACKS)
def test_only_ses_for_this_accounts_rule_may_write_raw_mail(synth: Synthesized, key: str, region: str) -> None:
    bucket_id = _inbound_bucket(synth, key)
    (policy,) = [p for p in synth.resources(key, "AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": bucket_id}]  # fmt: skip
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    deny_plain_http = [s for s in statements if s["Effect"] == "Deny"]
    assert deny_plain_http and deny_plain_http[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert json.dumps(allow["Resource"]).endswith(f'"/{RAW_PREFIX}*"]]}}') and bucket_id in json.dumps(allow)
    condition = allow["Condition"]["StringEquals"]
    assert _resolved(condition["aws:SourceAccount"], region) == ACCOUNT
    assert _resolved(condition["aws:SourceArn"], region) == _rule_arn(region)

    # SES writes as the rule's role: assumable by SES for this rule only, PutObject under the prefix only
    _, rule = only(synth, key, "AWS::SES::ReceiptRule")
    role_id = rule["Properties"]["Rule"]["Actions"][0]["S3Action"]["IamRoleArn"]["Fn::GetAtt"][0]
    trust = synth.raw(key)["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    (assume,) = trust
    assert assume["Principal"] == {"Service": "ses.amazonaws.com"}
    assert _resolved(assume["Condition"]["StringEquals"]["aws:SourceArn"], region) == _rule_arn(region)
    actions = {a for s in role_statements(synth, key, role_id) for a in _as_list(s["Action"])}
    assert actions == {"s3:PutObject", "kms:GenerateDataKey", "kms:Decrypt"}


@pytest.mark.parametrize(("key", "region"), SERVICE_STACKS)
def test_the_function_may_only_be_invoked_by_ses_for_this_rule(synth: Synthesized, key: str, region: str) -> None:
    function_id, _ = function_named(synth, key, "inbound_email")
    permissions = [p["Properties"] for p in synth.resources(key, "AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}]  # fmt: skip
    assert len(permissions) == 1
    (permission,) = permissions
    assert permission["Principal"] == "ses.amazonaws.com" and permission["Action"] == "lambda:InvokeFunction"
    assert _resolved(permission["SourceAccount"], region) == ACCOUNT
    assert _resolved(permission["SourceArn"], region) == _rule_arn(region)


@pytest.mark.parametrize(("key", "region"), SERVICE_STACKS)
def test_the_function_reads_raw_mail_writes_blobs_and_the_table_and_nothing_else(
    synth: Synthesized, key: str, region: str
) -> None:
    _, function = function_named(synth, key, "inbound_email")
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    bucket_id = _inbound_bucket(synth, key)
    granted: dict[str, set[str]] = {}
    for statement in role_statements(synth, key, role):
        assert statement["Effect"] == "Allow"
        for resource in _as_list(statement["Resource"]):
            target = _resolved(resource, region)
            granted.setdefault(target, set()).update(_as_list(statement["Action"]))
    on_inbound = {t: a for t, a in granted.items() if bucket_id in t}
    assert list(on_inbound.values()) == [{"s3:GetObject"}]
    assert next(iter(on_inbound)).endswith(f'"/{RAW_PREFIX}*"]]}}')
    attachments = f"arn:aws:s3:::caseline-attachments-{ACCOUNT}-{region}/*"
    assert granted[attachments] == {"s3:GetObject", "s3:PutObject"}
    s3_targets = {t for t, actions in granted.items() if any(a.startswith("s3:") for a in actions)}
    assert s3_targets == {attachments, *on_inbound}
    table_actions = set().union(*(a for t, a in granted.items() if ":table/caseline" in t or "Table" in t))
    assert "dynamodb:Scan" not in table_actions and {"dynamodb:PutItem", "dynamodb:Query"} <= table_actions
    everything = set().union(*granted.values())
    assert not any(a.startswith(("events:", "cognito-idp:", "ses:", "sns:")) for a in everything)
    sqs_targets = [t for t, actions in granted.items() if any(a.startswith("sqs:") for a in actions)]
    assert len(sqs_targets) == 1 and "InboundEmailDeadLetters" in sqs_targets[0]  # the on-failure destination
    env = function["Properties"]["Environment"]["Variables"]
    assert env["CASELINE_INBOUND_MAIL_BUCKET"] == {"Ref": bucket_id}
    assert env["CASELINE_INBOUND_MAIL_PREFIX"] == RAW_PREFIX
    assert env["CASELINE_SUPPORT_ADDRESSES"] == SUPPORT
    assert env["CASELINE_ATTACHMENTS_BUCKET"] == f"caseline-attachments-{ACCOUNT}-{region}"
    # the environment the function gets is one the settings model reads back
    plain = {k: v for k, v in env.items() if isinstance(v, str) and k.startswith("CASELINE_")}
    settings = Settings.from_env({**plain, "CASELINE_INBOUND_MAIL_BUCKET": "bucket"})
    assert settings.support_addresses == [SUPPORT] and settings.language_low_accuracy is True


@pytest.mark.parametrize(("key", "region"), SERVICE_STACKS)
def test_failed_events_end_in_an_alarmed_dead_letter_queue(synth: Synthesized, key: str, region: str) -> None:
    function_id, _ = function_named(synth, key, "inbound_email")
    (config,) = [c["Properties"] for c in synth.resources(key, "AWS::Lambda::EventInvokeConfig").values()
                 if c["Properties"]["FunctionName"] == {"Ref": function_id}]  # fmt: skip
    assert config["MaximumRetryAttempts"] == 2
    queue_id = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert synth.raw(key)["Resources"][queue_id]["Type"] == "AWS::SQS::Queue"
    queue_name = json.dumps({"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}})
    alarms = [a["Properties"] for a in synth.resources(key, "AWS::CloudWatch::Alarm").values()
              if queue_name in json.dumps(a["Properties"])]  # fmt: skip
    assert len(alarms) == 1 and alarms[0]["Threshold"] == 1
    assert "ApproximateNumberOfMessagesVisible" in json.dumps(alarms[0])


@pytest.mark.parametrize(("key", "region"), SERVICE_STACKS)
def test_lingua_rides_only_in_the_inbound_email_functions_layer(synth: Synthesized, key: str, region: str) -> None:
    resources = synth.raw(key)["Resources"]
    layers = {i: r for i, r in resources.items() if r["Type"] == "AWS::Lambda::LayerVersion"}

    def holds_lingua(layer_id: str) -> bool:
        asset_hash = layers[layer_id]["Properties"]["Content"]["S3Key"].removesuffix(".zip")
        asset = synth.outdir / f"asset.{asset_hash}"
        assert (asset / "python").is_dir(), layer_id
        return (asset / "python" / "lingua").is_dir()

    with_lingua = {i for i in layers if holds_lingua(i)}
    assert len(with_lingua) == 1
    (mail_layer,) = with_lingua
    assert mail_layer.startswith("FunctionsExtraLayerMail")
    users = {i for i, r in resources.items() if r["Type"] == "AWS::Lambda::Function"
             and {"Ref": mail_layer} in r["Properties"].get("Layers", [])}  # fmt: skip
    assert users == {function_named(synth, key, "inbound_email")[0]}


def test_extra_requirements_come_from_the_optional_group_and_stay_out_of_the_core_layer() -> None:
    build = LambdaBuild()
    assert build.extra_requirements("mail") == ["lingua-language-detector==2.1.1"]
    assert not any(r.startswith("lingua") for r in build.layer_requirements())
    with pytest.raises(Exception, match="no optional-dependencies group"):
        build.extra_requirements("nonexistent")


def test_the_mail_layer_holds_the_arm64_lingua_wheel_and_a_cached_build_never_runs_pip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build = LambdaBuild()
    layer = build.extra_layer("mail")
    assert any("aarch64" in p.name for p in (layer / "python" / "lingua").glob("*.so"))
    assert not (layer / "python" / "caseline").exists() and not (layer / "python" / "pydantic").exists()

    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran although the wheels are cached")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert build.extra_layer("mail") == layer


def test_support_addresses_default_to_the_domain_and_must_be_addresses() -> None:
    assert DeploymentConfig().inbound_addresses == (SUPPORT,)
    app = new_app({"caseline:support_addresses": "Help@Acme.example,billing@acme.example"})
    assert DeploymentConfig.from_node(app.node).inbound_addresses == ("help@acme.example", "billing@acme.example")
    with pytest.raises(ConfigError):
        DeploymentConfig(support_addresses=("not an address",))
    assert DeploymentConfig().receives_email("eu-central-1") and not DeploymentConfig().receives_email("eu-south-2")


def test_without_activation_the_rule_set_is_left_for_the_operator(stand_in_functions: Path) -> None:
    config = DeploymentConfig(functions_dir=stand_in_functions)
    app = cdk.App()
    stack = cdk.Stack(app, "Mail", env=cdk.Environment(account=config.account, region=PRIMARY))
    factory = FunctionFactory(stack, "Functions", config=config, settings=Settings(adapters="aws"),
                              build=LambdaBuild())
    made = factory.create(stack, FunctionSpec("consumer", "stand-in", invocation=Invocation.ASYNC))
    InboundEmail(stack, "InboundEmail", function=made, recipients=["help@acme.example", "billing@acme.example"],
                 key=DataKey(stack, "Key", config=config).key, retention_days=30, activate_rule_set=False)
    template = assertions.Template.from_stack(stack)
    template.resource_count_is("Custom::AWS", 0)
    template.has_resource_properties("AWS::SES::ReceiptRule", {"Rule": {"Recipients": ["acme.example"]}})
    template.has_resource_properties("AWS::S3::Bucket", {"LifecycleConfiguration": {"Rules": [
        assertions.Match.object_like({"ExpirationInDays": 30})]}})


def test_a_region_where_ses_cannot_receive_gets_no_inbound_email(stand_in_functions: Path) -> None:
    """eu-south-2 has no SES receiving endpoint: its service stack has no rule, bucket or function for mail,
    while the primary region keeps all three."""
    app = new_app({"caseline:secondary_region": "eu-south-2", "caseline:functions_dir": str(stand_in_functions)})
    stacks = build_app(app)
    receiving, not_receiving = stacks["service-primary"], stacks["service-secondary"]
    assert receiving.inbound_email is not None and not_receiving.inbound_email is None

    def kinds(stack: cdk.Stack) -> set[str]:
        return {type(c).__name__ for c in stack.node.find_all()}

    assert {"CfnReceiptRule", "CfnReceiptRuleSet"} <= kinds(receiving)
    assert not {"CfnReceiptRule", "CfnReceiptRuleSet"} & kinds(not_receiving)
    names = {c.node.id for c in not_receiving.node.find_all()}
    assert "InboundEmail" not in names and "ExtraLayerMail" not in names
