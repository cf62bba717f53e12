"""Stateless compute of one region: functions, API, live updates, events and monitoring.

Everything here can be destroyed and deployed again without losing data, so it changes with every
release. Both regions run the same stack; what differs is the failover role of the API and WebSocket
records, where the table's stream comes from (the global table's own attribute here, a lookup of the
replica there) and whether this region's outbox publisher is the active one.

The REST API's functions and routes are not listed here: they come from `caseline.api.catalog` and the
generated OpenAPI document (see `routes.py`), so a new resource group needs no infrastructure change unless
it needs new permissions. Later capabilities extend this stack through its parts: `functions.create(...)`
for a new function, `events.add_consumer(...)` for a consumer and `monitoring.add_state_machine(...)` for a
workflow (inlined from `statemachines/` by `workflows.AslStateMachine`).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from caseline.settings import Settings
from constructs import Construct

from ..build import LambdaBuild
from ..config import DeploymentConfig
from ..constructs.api import STAGE, RestApi, RouteGroup, Throttle
from ..constructs.api_domain import RegionalApiDomain
from ..constructs.attachments import AttachmentAccess
from ..constructs.email import RAW_PREFIX, InboundEmail
from ..constructs.events import DeadLetterQueue, EventBackbone
from ..constructs.firewall import ApiFirewall
from ..constructs.functions import CaselineFunction, FunctionFactory, FunctionSpec, Invocation
from ..constructs.monitoring import Monitoring
from ..constructs.outbound_email import OutboundEmail
from ..constructs.realtime import ConnectionTable, Realtime
from ..constructs.routing import RoutingAutomation
from ..constructs.rules import RuleAutomation
from ..constructs.sla import SlaClocks
from ..constructs.storage import GSI_NAMES, grant_table_data
from ..nag import acknowledge_cdk_internals
from ..routes import api_routes
from .data import DataStack
from .edge import EdgeStack
from .identity import IdentityStack

HEALTH_PATH = "/health"
# Functions fed by events rather than the REST API; the API functions come from the catalog.
EVENT_FUNCTIONS = ("outbox_publisher", "realtime_connect", "realtime_fanout", "inbound_email", "outbound_email",
                   "email_feedback")
EVENT_FUNCTIONS += ("sla_check", "sla_events", "timers")  # SLA clocks and timers: constructs/sla.py
EVENT_FUNCTIONS += ("rules_events",)  # automation rules: constructs/rules.py
EVENT_FUNCTIONS += ("routing_events",)  # skills-based routing: constructs/routing.py
DESCRIPTIONS = {
    "cases_api": "Cases, replies, notes, assignment, queues, views, saved views, bulk updates, merges",
    "customers_api": "Customers, timeline, 360 view, /me",
    "staff_api": "Agents, teams and role changes",
    "health": "Regional health: is the table reachable",
}
# What Powertools' DynamoDB idempotency layer calls.
IDEMPOTENCY = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


class ServiceStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        settings: Settings,
        build: LambdaBuild,
        region: str,
        data: DataStack,
        primary_data: DataStack,
        identity: IdentityStack,
        edge: EdgeStack,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=region),
            description=f"Caseline API, functions and events ({region})",
            cross_region_references=True,
        )
        primary = config.is_primary(region)
        table = self._table(settings, data, primary_data, primary)
        stream_arn = (
            primary_data.table.table_stream_arn if primary and primary_data.table else self._replica_stream(table)
        )

        self.functions = FunctionFactory(self, "Functions", config=config, settings=settings, build=build)
        staff_pool = identity.staff.pool
        self.attachments = AttachmentAccess(
            self, "Attachments", bucket_name=config.attachments_bucket_name(region), allowed_origins=edge.web_origins
        )
        self.api = RestApi(
            self,
            "Api",
            user_pools=[staff_pool, identity.customers.pool],
            allowed_origins=edge.web_origins,
            log_retention_days=config.log_retention_days,
            stage_throttle=Throttle(rate_per_second=500, burst=1000),
        )
        # One function per resource group of the catalog, mounted on the paths the OpenAPI document has.
        self.api_functions: dict[str, CaselineFunction] = {}
        for routes in api_routes():
            name = routes.function.name
            made = self.functions.create(
                self,
                FunctionSpec(
                    name,
                    DESCRIPTIONS.get(name, "API: " + ", ".join(f"/{root}" for root in routes.function.roots)),
                    memory_mb=256 if routes.public else 512,
                    settings_overrides=self._api_settings(name, staff_pool, data),
                ),
            )
            self.api_functions[name] = made
            self.api.add_routes(RouteGroup(made, routes.paths, methods=routes.methods, public=routes.public))
            self._grant_api_function(made, routes.public, table, data, staff_pool)
        publisher = self.functions.create(
            self,
            FunctionSpec(
                "outbox_publisher",
                "Outbox items from the table stream to the event bus",
                invocation=Invocation.STREAM,
                timeout_seconds=60,
            ),
        )
        self.api.add_usage_plan(
            "first-party", Throttle(rate_per_second=400, burst=800), key_value=config.first_party_api_key
        )
        for system in config.external_systems:
            self.api.add_usage_plan(system, Throttle(rate_per_second=20, burst=40, daily_quota=200_000))

        self.firewall = ApiFirewall(
            self,
            "Firewall",
            name=f"caseline-api-{region}",
            rate_limit_per_5_minutes=3000,
            max_body_bytes=settings.max_body_bytes,
        )
        self.firewall.protect(self.api.stage.stage_arn)
        self.domain = RegionalApiDomain(
            self, "Domain", config=config, api=self.api.api, health_path=f"/{STAGE}{HEALTH_PATH}"
        )

        self.events = EventBackbone(
            self,
            "Events",
            bus_name=settings.event_bus_name,
            event_source=settings.event_source,
            archive_days=config.event_archive_days,
            log_retention_days=config.log_retention_days,
        )
        self.events.add_outbox_publisher(publisher, stream_arn=stream_arn, enabled=region == config.active_region)

        self.realtime = self._realtime(config, settings, identity, edge, data, table)
        # Stage logs need the account's API Gateway logging role, which the REST API sets up.
        self.realtime.stage.node.add_dependency(self.api.logging_account)
        self.outbound_email = self._outbound_email(config, settings, data, table)
        self.events.dead_letter_queues.extend(self.outbound_email.dead_letter_queues)
        self.sla = SlaClocks(self, "Sla", config=config, settings=settings, functions=self.functions,
                             events_backbone=self.events, table_arn=table.table_arn, key=data.key)
        self.events.dead_letter_queues.extend(self.sla.dead_letter_queues)
        self.rules = RuleAutomation(self, "Rules", settings=settings, functions=self.functions,
                                    events_backbone=self.events, clocks=self.sla, table_arn=table.table_arn,
                                    key=data.key)
        # Rules notify and escalate by email too: the rules consumer and the timers (rules.recheck) send.
        for made in (self.rules.consumer, self.sla.timers):
            self.outbound_email.grant_send(made)
            for name, value in {"MAIL_SENDER": "ses", "SES_CONFIGURATION_SET": settings.ses_configuration_set,
                                "SUPPORT_ADDRESSES": ",".join(config.inbound_addresses),
                                "SUPPORT_TEAM_NAME": settings.support_team_name}.items():
                made.function.add_environment(f"CASELINE_{name}", value)
        self.routing = RoutingAutomation(self, "Routing", settings=settings, functions=self.functions,
                                         events_backbone=self.events, clocks=self.sla, table_arn=table.table_arn,
                                         key=data.key)
        # Inbound email only where SES receives mail; each such region has its own MX (docs/deploy.md).
        self.inbound_email = self._inbound_email(config, data, table) if config.receives_email(region) else None

        self.monitoring = Monitoring(
            self,
            "Monitoring",
            alarm_email=config.alarm_email,
            api=self.api.api,
            functions=self.functions.functions,
            table=table,
            replica_region=config.secondary_region if primary else None,
            dead_letter_queues=self.events.dead_letter_queues,
            stream_consumer=publisher,
        )
        self.monitoring.add_websocket_api(self.realtime.api.api_id, self.realtime.stage.stage_name)
        if self.inbound_email is not None and self.inbound_email.function.dead_letter_queue is not None:
            self.monitoring.add_dead_letter_queue(
                DeadLetterQueue("inbound-email", self.inbound_email.function.dead_letter_queue)
            )
        self.monitoring.add_state_machine("sla-clock", self.sla.state_machine)
        acknowledge_cdk_internals(self)
        cdk.CfnOutput(self, "ApiUrl", value=self.api.api.url)
        cdk.CfnOutput(self, "HealthCheckId", value=self.domain.health_check.health_check_id)
        cdk.CfnOutput(self, "WebSocketUrl", value=self.realtime.public_url)
        cdk.CfnOutput(self, "RegionalWebSocketUrl", value=self.realtime.regional_url)
        cdk.CfnOutput(self, "WebSocketManagementEndpoint", value=self.realtime.management_endpoint)

    def _api_settings(self, name: str, staff_pool: cognito.IUserPool, data: DataStack) -> dict[str, str]:
        if name == "staff_api":
            return {"staff_user_pool_id": staff_pool.user_pool_id}
        if name == "cases_api":
            return {"attachments_bucket": self.attachments.bucket_name, "attachments_kms_key_id": data.key.key_arn}
        return {}

    def _grant_api_function(
        self,
        made: CaselineFunction,
        public: bool,
        table: dynamodb.ITableV2,
        data: DataStack,
        staff_pool: cognito.IUserPool,
    ) -> None:
        if public:  # /health: is the table there and readable, nothing more
            grant_table_data(
                made.role,
                table_arn=table.table_arn,
                key=data.key,
                actions=("dynamodb:DescribeTable", "dynamodb:GetItem"),
            )
            return
        grant_table_data(made.role, table_arn=table.table_arn, key=data.key, indexes=GSI_NAMES)
        grant_table_data(made.role, table_arn=data.idempotency_table.table_arn, key=data.key, actions=IDEMPOTENCY)
        if made.spec.name == "staff_api":
            made.role.add_to_policy(
                iam.PolicyStatement(
                    actions=["cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup"],
                    resources=[staff_pool.user_pool_arn],
                )
            )
        if made.spec.name == "cases_api":
            self.attachments.grant_signing(made)

    def _outbound_email(
        self, config: DeploymentConfig, settings: Settings, data: DataStack, table: dynamodb.ITableV2
    ) -> OutboundEmail:
        sender = self.functions.create(
            self,
            FunctionSpec(
                "outbound_email",
                "Public replies on email cases to SES, with the delivery state on the interaction",
                invocation=Invocation.ASYNC,
                timeout_seconds=60,  # three attempts with backoff within one invocation
                settings_overrides={
                    "mail_sender": "ses",
                    "ses_configuration_set": settings.ses_configuration_set,
                    "support_addresses": ",".join(config.inbound_addresses),
                    "support_team_name": settings.support_team_name,
                    "attachments_bucket": self.attachments.bucket_name,
                    "attachments_kms_key_id": data.key.key_arn,
                },
            ),
        )
        feedback = self.functions.create(
            self,
            FunctionSpec(
                "email_feedback",
                "SES bounces, complaints, deliveries and rejects to the interactions and customers they concern",
                invocation=Invocation.ASYNC,
                memory_mb=256,
                timeout_seconds=30,
            ),
        )
        for made in (sender, feedback):
            grant_table_data(made.role, table_arn=table.table_arn, key=data.key, indexes=GSI_NAMES)
        self.attachments.grant_signing(sender)  # reads the attachments it sends
        return OutboundEmail(
            self,
            "EmailSending",
            sender=sender,
            feedback=feedback,
            events_backbone=self.events,
            sending_domain=config.inbound_addresses[0].rpartition("@")[2],
            domain_name=config.domain_name,
            hosted_zone_id=config.hosted_zone_id,
            configuration_set_name=settings.ses_configuration_set,
        )

    def _realtime(
        self,
        config: DeploymentConfig,
        settings: Settings,
        identity: IdentityStack,
        edge: EdgeStack,
        data: DataStack,
        table: dynamodb.ITableV2,
    ) -> Realtime:
        staff_pool = identity.staff.pool
        connect = self.functions.create(
            self,
            FunctionSpec(
                "realtime_connect",
                "WebSocket $connect (verifies the staff token), $disconnect and $default (ping)",
                memory_mb=256,
                settings_overrides={
                    "cognito_issuer": staff_pool.user_pool_provider_url,
                    "cognito_client_id": edge.agent_client.user_pool_client_id,
                },
            ),
        )
        fanout = self.functions.create(
            self,
            FunctionSpec(
                "realtime_fanout",
                "Case events to every live staff WebSocket connection",
                invocation=Invocation.ASYNC,
                timeout_seconds=30,
            ),
        )
        return Realtime(
            self,
            "Realtime",
            config=config,
            connect=connect,
            fanout=fanout,
            connections=ConnectionTable(self, "Connections", table_name=settings.connections_table_name, key=data.key),
            events_backbone=self.events,
            table_arn=table.table_arn,
            key=data.key,
            health_check=self.domain.health_check,
        )

    def _inbound_email(self, config: DeploymentConfig, data: DataStack, table: dynamodb.ITableV2) -> InboundEmail:
        made = self.functions.create(
            self,
            FunctionSpec(
                "inbound_email",
                "SES receipt rule: the raw message SES stored in S3 to a case, an interaction or a rejection",
                invocation=Invocation.ASYNC,
                memory_mb=1024,
                timeout_seconds=120,
                extras=("mail",),  # lingua's language models ride in this function only
                settings_overrides={
                    "attachments_bucket": self.attachments.bucket_name,
                    "attachments_kms_key_id": data.key.key_arn,
                    "inbound_mail_prefix": RAW_PREFIX,
                    "support_addresses": ",".join(config.inbound_addresses),
                    # A Lambda instance lives minutes, not days: the small model loads in milliseconds.
                    "language_low_accuracy": "true",
                },
            ),
        )
        inbound = InboundEmail(
            self,
            "Email",  # "InboundEmail" is the function's own scope
            function=made,
            recipients=config.inbound_addresses,
            key=data.key,
            retention_days=config.raw_mail_retention_days,
            activate_rule_set=config.activate_receipt_rule_set,
        )
        made.function.add_environment("CASELINE_INBOUND_MAIL_BUCKET", inbound.bucket.bucket_name)
        grant_table_data(made.role, table_arn=table.table_arn, key=data.key, indexes=GSI_NAMES)
        self.attachments.grant_signing(made)  # stores attachments and the raw message as blobs
        return inbound

    def _table(self, settings: Settings, data: DataStack, primary_data: DataStack, primary: bool) -> dynamodb.ITableV2:
        """The table as this region sees it: the global table itself, or its local replica."""
        if primary and primary_data.table is not None:
            return primary_data.table
        return dynamodb.TableV2.from_table_attributes(
            self,
            "ReplicaTable",
            table_name=settings.table_name,
            encryption_key=data.key,
            global_indexes=list(GSI_NAMES),
        )

    def _replica_stream(self, table: dynamodb.ITableV2) -> str:
        """A replica's stream ARN is not exported by the stack that made the global table, so it is read
        at deploy time from DescribeTable in this region."""
        lookup = cr.AwsCustomResource(
            self,
            "ReplicaStream",
            on_update=cr.AwsSdkCall(
                service="DynamoDB",
                action="describeTable",
                parameters={"TableName": table.table_name},
                physical_resource_id=cr.PhysicalResourceId.of(f"{table.table_name}-stream"),
                output_paths=["Table.LatestStreamArn"],
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["dynamodb:DescribeTable"], resources=[table.table_arn])]
            ),
            install_latest_aws_sdk=False,
        )
        return lookup.get_response_field("Table.LatestStreamArn")
