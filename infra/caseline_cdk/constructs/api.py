"""The REST API: routes to one function per resource group, behind Cognito, keys and throttles.

* Every route that is not explicitly public gets the Cognito authorizer (staff and customer pools both;
  the service layer checks roles, the authorizer only proves who is calling) and requires an API key.
* API keys meter and throttle, they do not authenticate: the first-party plan's key is shipped with the
  web apps and is not secret; each external system gets its own key on a tighter plan with a quota.
* Each resource group is one Lambda proxy integration (the function's Powertools resolver routes inside),
  mounted on the group's paths and their `{proxy+}` children.
* CORS preflight is answered by API Gateway itself, without a token, for the web apps' origins only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from caseline.api.problems import PROBLEM_BASE
from constructs import Construct

from ..nag import acknowledge
from .functions import CaselineFunction, retention

STAGE = "live"
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Api-Key")
EXPOSED_HEADERS = ("ETag", "Location")


@dataclass(frozen=True)
class RouteGroup:
    """One resource group: a function and the paths it serves, e.g. `/cases`, `/cases/{proxy+}`."""

    function: CaselineFunction
    paths: tuple[str, ...]
    methods: tuple[str, ...] = ("ANY",)
    public: bool = False


@dataclass(frozen=True)
class Throttle:
    rate_per_second: int
    burst: int
    daily_quota: int | None = None


class RestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pools: Sequence[cognito.IUserPool],
        allowed_origins: Sequence[str],
        log_retention_days: int,
        stage_throttle: Throttle,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=retention(log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name="caseline",
            description="Caseline REST API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.DESTROY,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=stage_throttle.rate_per_second,
                throttling_burst_limit=stage_throttle.burst,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=list(allowed_origins),
                allow_headers=list(ALLOWED_HEADERS),
                expose_headers=list(EXPOSED_HEADERS),
                allow_methods=apigw.Cors.ALL_METHODS,
                max_age=cdk.Duration.hours(1),
            ),
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
        )
        self._problem_responses()
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=list(user_pools),
            identity_source="method.request.header.Authorization",
        )
        self.validator = self.api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )
        self.public_paths: list[str] = []
        acknowledge(
            self.api,
            "APIG4",
            "Only CORS preflight (OPTIONS, answered by API Gateway itself) and the routes listed as "
            "public (/health) are open; every other method has the Cognito authorizer, asserted by tests.",
        )
        acknowledge(
            self.api,
            "COG4",
            "The same exceptions as APIG4: OPTIONS preflight and /health carry no Cognito authorizer by "
            "design; tests assert that every other method does.",
        )
        acknowledge(
            self.api,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role needs exactly this AWS-maintained policy; it is "
            "the documented way to let the service write execution logs.",
        )

    @property
    def stage(self) -> apigw.Stage:
        return self.api.deployment_stage

    @property
    def logging_account(self) -> Construct:
        """The region's API Gateway account settings (its CloudWatch role), which any stage logging needs."""
        return self.api.node.find_child("Account")

    def add_routes(self, group: RouteGroup) -> None:
        integration = apigw.LambdaIntegration(group.function.function, proxy=True)
        for path in group.paths:
            resource = self.api.root.resource_for_path(path)
            for method in group.methods:
                if group.public:
                    resource.add_method(method, integration, request_validator=self.validator)
                    self.public_paths.append(path)
                else:
                    resource.add_method(
                        method,
                        integration,
                        authorizer=self.authorizer,
                        authorization_type=apigw.AuthorizationType.COGNITO,
                        api_key_required=True,
                        request_validator=self.validator,
                    )

    def add_usage_plan(self, name: str, throttle: Throttle, key_value: str | None = None) -> apigw.IApiKey:
        """A usage plan on the live stage with one key; the key value is generated unless given."""
        plan = self.api.add_usage_plan(
            f"{name.title().replace('-', '')}Plan",
            name=f"caseline-{name}",
            throttle=apigw.ThrottleSettings(rate_limit=throttle.rate_per_second, burst_limit=throttle.burst),
            quota=(
                apigw.QuotaSettings(limit=throttle.daily_quota, period=apigw.Period.DAY)
                if throttle.daily_quota
                else None
            ),
        )
        plan.add_api_stage(stage=self.stage)
        key = self.api.add_api_key(
            f"{name.title().replace('-', '')}Key", api_key_name=f"caseline-{name}", value=key_value
        )
        plan.add_api_key(key)
        return key

    def _problem_responses(self) -> None:
        """API Gateway's own refusals (no token, throttled, WAF, no API key) as problem+json the browser can read.

        Without CORS headers on them the SPA sees an opaque network error instead of a 401 or 429. Gateway
        responses cannot pick from a list of origins, so they echo the caller's Origin: they carry no data,
        and the bearer token — not a cookie — is what authenticates, so no other site gains anything.
        """
        body = (
            '{"type": "' + PROBLEM_BASE + 'gateway", "title": $context.error.messageString, '
            '"detail": $context.error.messageString, "request_id": "$context.requestId"}'
        )
        for name, response_type in (("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
                                     ("Default5xx", apigw.ResponseType.DEFAULT_5_XX)):
            self.api.add_gateway_response(
                name,
                type=response_type,
                response_headers={
                    "Access-Control-Allow-Origin": "method.request.header.origin",
                    "Access-Control-Expose-Headers": "'" + ",".join(EXPOSED_HEADERS) + "'",
                    "Vary": "'Origin'",
                    "Content-Type": "'application/problem+json'",
                },
                templates={"application/json": body, "application/problem+json": body},
            )

