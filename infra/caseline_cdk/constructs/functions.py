"""The one function factory: every Lambda function in Caseline is made here.

A function is more than its code. Each one gets, without the caller asking:

* Python 3.12 on arm64 (Graviton: cheaper per GB-second, and our wheels are built for it);
* the public Powertools layer pinned to the release in pyproject.toml, then our `layers/core` layer, in
  that order, so our pins win if both ship the same module; then one layer per optional-dependency group
  the spec names (`extras`), shared by the functions that name it and absent from all the others;
* JSON logs into its own log group with a retention, and X-Ray active tracing;
* its environment from `caseline.settings.Settings`, the same typed model the code reads at cold start,
  so a setting cannot exist in the infrastructure and not in the code;
* its own IAM role, starting with nothing but its log group and X-Ray: every data permission is granted
  by the construct that owns the data, on that resource only;
* for functions invoked asynchronously, a dead-letter queue as the on-failure destination, with bounded
  retries and event age, so a poison event ends up somewhere an alarm can see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from caseline.settings import Settings
from constructs import Construct

from ..build import LAMBDA_PYTHON, LambdaBuild
from ..config import DeploymentConfig
from ..nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
METRICS_NAMESPACE = "Caseline"
FUNCTION_TAG = "caseline:function"
_POWERTOOLS_PARAMETER = "/aws/service/powertools/python/arm64/python{python}/{version}"


class Invocation(StrEnum):
    """How a function is invoked decides how its failures are kept."""

    SYNC = "sync"  # API Gateway: the caller sees the error; nothing to dead-letter
    ASYNC = "async"  # EventBridge, S3, SNS: Lambda retries, then the on-failure destination
    STREAM = "stream"  # DynamoDB stream: the event source mapping has its own on-failure destination


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # the folder under functions/, also the Powertools service name
    description: str
    invocation: Invocation = Invocation.SYNC
    memory_mb: int = 512
    timeout_seconds: int = 15
    settings_overrides: dict[str, str] = field(default_factory=dict)
    extras: tuple[str, ...] = ()  # optional-dependency groups of pyproject.toml this function alone needs
    function_name: str | None = None  # only where an ARN must be known before the function exists


@dataclass(frozen=True)
class CaselineFunction:
    spec: FunctionSpec
    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup
    dead_letter_queue: sqs.Queue | None


class FunctionFactory(Construct):
    """Holds what all functions of a region share (layers, settings) and makes each one."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        settings: Settings,
        build: LambdaBuild,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._settings = settings
        self._build = build
        self.functions: list[CaselineFunction] = []
        self.core_layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            code=lambda_.Code.from_asset(str(build.core_layer())),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="caseline package and its pinned dependencies (without powertools and boto3)",
        )
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", self._powertools_layer_arn()
        )
        self.extra_layers: dict[str, lambda_.LayerVersion] = {}

    def extra_layer(self, extra: str) -> lambda_.LayerVersion:
        """The layer of one optional-dependency group, made the first time a function asks for it."""
        if extra not in self.extra_layers:
            self.extra_layers[extra] = lambda_.LayerVersion(
                self,
                f"ExtraLayer{_pascal(extra)}",
                code=lambda_.Code.from_asset(str(self._build.extra_layer(extra))),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description=f"the '{extra}' optional dependencies of caseline, for the functions that need them",
            )
        return self.extra_layers[extra]

    def _powertools_layer_arn(self) -> str:
        """Resolved at deploy time from the public SSM parameter Powertools publishes per release, so the
        layer matches the version we pin and synth needs no AWS call; a context value overrides it."""
        if self._config.powertools_layer_arn:
            return self._config.powertools_layer_arn
        name = _POWERTOOLS_PARAMETER.format(python=LAMBDA_PYTHON, version=self._config.powertools_version)
        return ssm.StringParameter.value_for_string_parameter(self, name)

    def create(self, scope: Construct, spec: FunctionSpec) -> CaselineFunction:
        holder = Construct(scope, _pascal(spec.name))
        log_group = logs.LogGroup(
            holder,
            "Logs",
            retention=retention(self._config.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            holder,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"caseline {spec.name}: its own log group and X-Ray; data grants added by owners",
        )
        log_group.grant_write(role)
        dead_letter_queue = None
        async_options: dict[str, object] = {}
        if spec.invocation is Invocation.ASYNC:
            dead_letter_queue = dead_letter(holder, "DeadLetters")
            async_options = {
                "on_failure": destinations.SqsDestination(dead_letter_queue),
                "retry_attempts": 2,
                "max_event_age": cdk.Duration.hours(6),
            }
        environment = self._settings.lambda_environment(**spec.settings_overrides)
        environment |= {
            "POWERTOOLS_SERVICE_NAME": spec.name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }
        function = lambda_.Function(
            holder,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.lambda_handler",
            function_name=spec.function_name,
            code=lambda_.Code.from_asset(
                str(self._build.function_source(self._config.functions_dir, spec.name)),
                exclude=["__pycache__", "*.pyc", "tests"],
            ),
            layers=[self.powertools_layer, self.core_layer, *(self.extra_layer(extra) for extra in spec.extras)],
            memory_size=spec.memory_mb,
            timeout=cdk.Duration.seconds(spec.timeout_seconds),
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            environment=environment,
            **async_options,  # type: ignore[arg-type]
        )
        cdk.Tags.of(function).add(FUNCTION_TAG, spec.name)
        acknowledge(
            function,
            "L1",
            "Pinned to Python 3.12 on purpose: the core layer's wheels are built for cp312 and the public "
            "Powertools layer is chosen for python3.12; moving on is one constant, done with both.",
        )
        acknowledge(
            role,
            "IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; the "
            "statement holds only those two actions, never a data action.",
        )
        made = CaselineFunction(spec, function, role, log_group, dead_letter_queue)
        self.functions.append(made)
        return made


def dead_letter(scope: Construct, construct_id: str) -> sqs.Queue:
    """A dead-letter queue: encrypted, TLS only, kept the SQS maximum of 14 days for replay."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
    )
    acknowledge(
        queue,
        "SQS3",
        "This queue is itself a dead-letter queue; giving it another DLQ would only move the same "
        "messages one hop further. Its depth is alarmed instead.",
    )
    return queue


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


_RETENTIONS = {
    1: logs.RetentionDays.ONE_DAY,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}


def retention(days: int) -> logs.RetentionDays:
    """CloudWatch Logs only accepts fixed retentions; a typo in context fails synth, not the deploy."""
    try:
        return _RETENTIONS[days]
    except KeyError:
        raise ValueError(f"log retention must be one of {sorted(_RETENTIONS)} days, got {days}") from None
