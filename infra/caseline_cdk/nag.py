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


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of a construct's resource, as cdk-nag prints it inside `<...>`."""
    stack = cdk.Stack.of(construct)
    resource = construct.node.default_child or construct
    return str(stack.resolve(stack.get_logical_id(resource)))  # type: ignore[arg-type]


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


# The CDK's BucketDeployment handler (one per stack and memory size): it copies an asset zip from the CDK
# assets bucket into a destination bucket and invalidates CloudFront, with policies the CDK writes.
_DEPLOYMENT_HANDLER = "Custom::CDKBucketDeployment"
_DEPLOYMENT_REASON = (
    "The CDK's own BucketDeployment handler, run only during deployments: it reads the asset zip from the "
    "CDK assets bucket and syncs it into the site bucket (list, get, put, delete under that bucket), and "
    "creates CloudFront invalidations, which have no resource-level permissions."
)


def acknowledge_bucket_deployments(stack: cdk.Stack, destination_buckets: list[IConstruct]) -> None:
    """Acknowledge the findings on the handler the CDK adds for `BucketDeployment`, named one by one."""
    assets = f"cdk-{cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-{stack.account}-{stack.region}"
    findings = [
        "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        *(f"IAM5[Action::s3:{verb}*]" for verb in ("GetBucket", "GetObject", "List", "Abort", "DeleteObject")),
        f"IAM5[Resource::arn:<AWS::Partition>:s3:::{assets}/*]",
        *(f"IAM5[Resource::<{logical_id(bucket)}.Arn>/*]" for bucket in destination_buckets),
        "IAM5[Resource::*]",
        "L1",
    ]
    handlers = [child for child in stack.node.children if child.node.id.startswith(_DEPLOYMENT_HANDLER)]
    for handler in handlers:
        for finding in findings:
            acknowledge(handler, finding, _DEPLOYMENT_REASON)
