"""The WAF web ACL in front of the REST API.

AWS managed rule groups carry the generic protections (OWASP-style common rules, known bad inputs, IP
reputation); we add two rules of our own: a rate limit per client IP, and a request-size limit.

The common rule set's `SizeRestrictions_BODY` blocks any body over 8 KB, which would reject ordinary
replies with quoted history. It is switched to count, and our own limit takes its place: WAF only sees the
first 8 KB of a body, so the limit is enforced on the declared `Content-Length` instead, with a regular
expression that matches exactly the decimal numbers above the limit. The application enforces the same
number (`Settings.max_body_bytes`) on what actually arrives.
"""

from __future__ import annotations

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def decimal_greater_than(limit: int) -> str:
    """A regular expression matching the base-10 integers strictly greater than `limit`.

    Leading zeros are allowed (HTTP does not forbid them) and do not help a client slip under the limit.
    """
    if limit < 0:
        raise ValueError("limit must be non-negative")
    digits = str(limit)
    width = len(digits)
    alternatives = [f"[1-9][0-9]{{{width},}}"]  # more digits than the limit
    for i, digit in enumerate(digits):
        if digit == "9":
            continue
        rest = width - i - 1
        higher = str(int(digit) + 1) if digit == "8" else f"[{int(digit) + 1}-9]"
        alternatives.append(digits[:i] + higher + (f"[0-9]{{{rest}}}" if rest else ""))
    return "^0*(" + "|".join(alternatives) + ")$"


class ApiFirewall(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        rate_limit_per_5_minutes: int,
        max_body_bytes: int,
    ) -> None:
        super().__init__(scope, construct_id)
        rules = [self._managed(priority, group) for priority, group in enumerate(MANAGED_RULE_GROUPS)]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="rate-limit-per-ip",
                priority=len(rules),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit_per_5_minutes, aggregate_key_type="IP"
                    )
                ),
                visibility_config=_visibility("rate-limit-per-ip"),
            )
        )
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="max-body-size",
                priority=len(rules),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
                        regex_string=decimal_greater_than(max_body_bytes),
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": "content-length"}),
                        text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
                    )
                ),
                visibility_config=_visibility("max-body-size"),
            )
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            rules=rules,
        )

    def protect(self, resource_arn: str) -> None:
        wafv2.CfnWebACLAssociation(self, "Association", resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn)

    @staticmethod
    def _managed(priority: int, group: str) -> wafv2.CfnWebACL.RuleProperty:
        overrides = None
        if group == "AWSManagedRulesCommonRuleSet":
            overrides = [
                wafv2.CfnWebACL.RuleActionOverrideProperty(
                    name="SizeRestrictions_BODY",
                    action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                )
            ]
        return wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group, rule_action_overrides=overrides
                )
            ),
            visibility_config=_visibility(group),
        )


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )
