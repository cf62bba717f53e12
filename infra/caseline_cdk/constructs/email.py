"""Inbound email in one region: SES receives, stores the raw message in S3, then invokes `inbound_email`.

    sender ─► MX inbound-smtp.<region>.amazonaws.com ─► receipt rule set `caseline-inbound`
              rule `caseline-support` (the support domains, TLS required, spam and virus scan)
                1. S3 action: s3://<inbound bucket>/inbound/<SES message id>  (as the rule's own role)
                2. Lambda action, Event invocation: inbound_email reads that object and ingests it

The bucket is a landing area: the ingestion service keeps its own copy of each raw message in the
attachments store, so raw objects here expire after `raw_mail_retention_days`. It is encrypted with the
region's data key. SES writes through a role of its own (the S3 action's `IamRoleArn`): writing into a
bucket whose default encryption is a customer-managed key needs `kms:GenerateDataKey` on that key, which
the role has (with `kms:Decrypt`, which multipart uploads need) and the data key's policy need not grant to
a service. The bucket policy admits `ses.amazonaws.com` as well, for this account's rule only
(`aws:SourceAccount` and `aws:SourceArn`), so the bucket itself says who may write into it; every other
grant names the rule the same way.

The rule matches the support addresses' domains, not the addresses: a receipt rule has no wildcard for the
local part, and replies come back to plus addresses (`support+c10234@...`) that name the case. The ingestion
service decides per recipient (a base address it knows, or a recorded `not_for_us` rejection), which is why
those domains should carry support mail only.

SES allows one active receipt rule set per region; by default a custom resource makes ours the active one
(and deactivates it when the stack is deleted). ADR 0111 explains the choice and the opt-out.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import custom_resources as cr
from constructs import Construct

from ..nag import acknowledge, logical_id
from .functions import CaselineFunction

RULE_SET_NAME = "caseline-inbound"
RULE_NAME = "caseline-support"
RAW_PREFIX = "inbound/"
SES = "ses.amazonaws.com"


class InboundEmail(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: CaselineFunction,
        recipients: Sequence[str],
        key: kms.IKey,
        retention_days: int,
        activate_rule_set: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = function
        stack = cdk.Stack.of(self)
        # Known before the rule exists, so the policies that must be in place before SES accepts the rule
        # can name it without a circular reference.
        self.rule_arn = stack.format_arn(
            service="ses",
            resource="receipt-rule-set",
            resource_name=f"{RULE_SET_NAME}:receipt-rule/{RULE_NAME}",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        from_our_rule = {"StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": self.rule_arn}}

        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-raw-mail",
                    expiration=cdk.Duration.days(retention_days),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        raw_objects = self.bucket.arn_for_objects(f"{RAW_PREFIX}*")
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSesToStoreInboundMail",
                principals=[iam.ServicePrincipal(SES)],
                actions=["s3:PutObject"],
                resources=[raw_objects],
                conditions=from_our_rule,
            )
        )
        acknowledge(
            self.bucket,
            "S1",
            "Only SES (through this rule's role) writes here and only the inbound_email function reads; each "
            "object is one message whose receipt and ingestion the function logs with its SES message id.",
        )

        self.ses_role = iam.Role(
            self,
            "SesRole",
            assumed_by=iam.ServicePrincipal(SES, conditions=from_our_rule),
            description="SES receipt rule caseline-support: store raw inbound mail under inbound/",
        )
        self.ses_role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[raw_objects]))
        # GenerateDataKey for any SSE-KMS upload; Decrypt too, because S3 needs it to complete a multipart upload
        # (large messages) under the bucket's key.
        self.ses_role.add_to_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn])
        )
        acknowledge(
            self.ses_role,
            f"IAM5[Resource::<{logical_id(self.bucket)}.Arn>/{RAW_PREFIX}*]",
            "Object keys are SES message ids, unknown in advance; the grant is PutObject only, under the "
            "inbound/ prefix of this one bucket.",
        )

        function.function.add_permission(
            "SesInvoke",
            principal=iam.ServicePrincipal(SES),
            action="lambda:InvokeFunction",
            source_account=stack.account,
            source_arn=self.rule_arn,
        )
        function.role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[raw_objects]))
        function.role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[key.key_arn]))
        acknowledge(
            function.role,
            f"IAM5[Resource::<{logical_id(self.bucket)}.Arn>/{RAW_PREFIX}*]",
            "The function reads the one raw message each event names; keys are SES message ids, so the grant "
            "is GetObject under the inbound/ prefix of this bucket, nothing else.",
        )

        self.rule_set = ses.CfnReceiptRuleSet(self, "RuleSet", rule_set_name=RULE_SET_NAME)
        self.rule = ses.CfnReceiptRule(
            self,
            "Rule",
            rule_set_name=RULE_SET_NAME,
            rule=ses.CfnReceiptRule.RuleProperty(
                name=RULE_NAME,
                enabled=True,
                recipients=rule_recipients(recipients),
                scan_enabled=True,
                tls_policy="Require",
                actions=[
                    ses.CfnReceiptRule.ActionProperty(
                        s3_action=ses.CfnReceiptRule.S3ActionProperty(
                            bucket_name=self.bucket.bucket_name,
                            object_key_prefix=RAW_PREFIX,
                            iam_role_arn=self.ses_role.role_arn,
                        )
                    ),
                    ses.CfnReceiptRule.ActionProperty(
                        lambda_action=ses.CfnReceiptRule.LambdaActionProperty(
                            function_arn=function.function.function_arn,
                            invocation_type="Event",
                        )
                    ),
                ],
            ),
        )
        # SES tests its access to the bucket and the function when it creates the rule.
        permission = function.function.node.find_child("SesInvoke")
        for needed in (self.rule_set, self.bucket.policy, self.ses_role, permission, function.role):
            if needed is not None:
                self.rule.node.add_dependency(needed)

        self.activation: cr.AwsCustomResource | None = None
        if activate_rule_set:
            self.activation = self._activate(stack)

    def _activate(self, stack: cdk.Stack) -> cr.AwsCustomResource:
        activation = cr.AwsCustomResource(
            self,
            "Activate",
            on_update=cr.AwsSdkCall(
                service="SES",
                action="setActiveReceiptRuleSet",
                parameters={"RuleSetName": RULE_SET_NAME},
                physical_resource_id=cr.PhysicalResourceId.of(f"{RULE_SET_NAME}-active"),
            ),
            # No name deactivates every rule set: the region stops receiving, as it did before us.
            on_delete=cr.AwsSdkCall(service="SES", action="setActiveReceiptRuleSet", parameters={}),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["ses:SetActiveReceiptRuleSet"], resources=["*"])]
            ),
            install_latest_aws_sdk=False,
        )
        activation.node.add_dependency(self.rule)
        acknowledge(
            activation,
            "IAM5[Resource::*]",
            "SES SetActiveReceiptRuleSet has no resource-level permissions; this deployment-time custom "
            "resource may call only that action.",
        )
        return activation


def rule_recipients(addresses: Sequence[str]) -> list[str]:
    """The domains of the support addresses, which is what the rule matches (see the module docstring)."""
    return sorted({address.rpartition("@")[2].lower() for address in addresses})
