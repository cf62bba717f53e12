"""cdk-nag acknowledgments, each with its reason, in one small helper.

cdk-nag 3 reads CDK's native `Validations.of(scope).acknowledge(...)`; a finding with an argument (IAM5's
wildcards) is acknowledged by its full id, e.g. `AwsSolutions-IAM5[Resource::*]`. Requiring a reason of
real length keeps "acknowledged" from meaning "ignored".
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

MIN_REASON = 40


def enforce(app: cdk.App) -> None:
    """Run the AwsSolutions pack at synth; any unacknowledged finding fails synth with a report in
    `<outdir>/validation-report.json`. (cdk-nag 3 works only as a validation plugin, not as an Aspect.)"""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    if len(reason) < MIN_REASON:
        raise ValueError(f"the reason for acknowledging {rule} must say why ({MIN_REASON}+ characters)")
    rule_id = rule if rule.startswith("AwsSolutions-") else f"AwsSolutions-{rule}"
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def acknowledge_all(scope: IConstruct, findings: dict[str, str]) -> None:
    for rule, reason in findings.items():
        acknowledge(scope, rule, reason)


# Constructs the CDK adds on its own: the singleton Lambda behind AwsCustomResource (the replica stream
# lookup, the event log's resource policy) and those custom resources' policies.
_CDK_SINGLETON = "AWS679f53fac002430cb0da5b7982bd2287"
_CDK_INTERNALS = {
    "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]": (
        "The CDK's own custom-resource handler uses the AWS basic execution policy (log writes only); "
        "it runs only during deployments."
    ),
    "IAM5[Resource::*]": (
        "A CDK custom resource calling a control-plane API without resource-level permissions "
        "(CloudWatch Logs resource policies); it runs only during deployments."
    ),
}


def acknowledge_cdk_internals(stack: cdk.Stack) -> None:
    for child in stack.node.children:
        if child.node.id == _CDK_SINGLETON:
            acknowledge(child, next(iter(_CDK_INTERNALS)), _CDK_INTERNALS[next(iter(_CDK_INTERNALS))])
        elif child.node.id.startswith("EventsLogGroupPolicy"):
            acknowledge(child, "IAM5[Resource::*]", _CDK_INTERNALS["IAM5[Resource::*]"])
