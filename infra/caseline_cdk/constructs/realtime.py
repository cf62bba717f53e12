"""Live updates for the agent workspace: a WebSocket API, its connection table and the fan-out consumer.

    browser --wss--> WebSocket API ($connect / $disconnect / $default) --> realtime_connect
    bus (caseline.case.*) --rule--> realtime_fanout --PostToConnection--> every staff connection

* `$connect` carries the staff member's Cognito token as `?token=`: browsers cannot set an Authorization
  header on a WebSocket, so the connect function verifies the JWT itself against the staff pool's JWKS
  (issuer and app client id in its environment) and refuses the connection otherwise. No API Gateway
  authorizer runs on these routes, by design.
* The connection table is per region, never global: a WebSocket connection lives on one regional API, and
  a replica's entries would name connections the other region cannot post to. Its items are ephemeral
  (TTL `expires_at`, API Gateway closes a connection after two hours at most), so the table lives with
  the API in the stateless stack; losing it loses nothing a reconnect does not restore.
* Clients reach the API through `ws.<domain>`, a failover record pair like `api.<domain>`'s, so after a
  DNS failover they reconnect to the same name and land in the other region.
* The fan-out function may call the management API of this API's stage only (ManageConnections scoped
  to the API's ARN), read the single table (one GetItem per event for the case snapshot) and read/write
  the connection table (it forgets connections API Gateway reports gone).
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from caseline.ports.table import INDEXES, TTL_ATTRIBUTE
from constructs import Construct

from ..config import DeploymentConfig
from ..nag import acknowledge, logical_id
from .api_domain import zone_and_certificate
from .events import EventBackbone
from .functions import CaselineFunction, retention
from .storage import TABLE_READ_WRITE, grant_table_data

STAGE = "live"
ROUTES = ("$connect", "$disconnect", "$default")
CASE_EVENTS_PREFIX = "caseline.case."
# PostToConnection, and DeleteConnection for a connection the function decides to close.
MANAGEMENT_VERBS = ("POST", "DELETE")
TABLE_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """A WebSocket stage's access log: one JSON line per connect, message and disconnect."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(
            '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
            '"requestTime":"$context.requestTime","routeKey":"$context.routeKey",'
            '"eventType":"$context.eventType","status":"$context.status",'
            '"connectionId":"$context.connectionId","integrationError":"$context.integrationErrorMessage"}'
        )


class ConnectionTable(Construct):
    """Who is connected to this region's WebSocket API; keys as the table port names them."""

    def __init__(self, scope: Construct, construct_id: str, *, table_name: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        partition, sort = INDEXES[None]
        string = dynamodb.AttributeType.STRING
        self.table = dynamodb.TableV2(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name=partition, type=string),
            sort_key=dynamodb.Attribute(name=sort, type=string),
            billing=dynamodb.Billing.on_demand(),
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )


class Realtime(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        connect: CaselineFunction,
        fanout: CaselineFunction,
        connections: ConnectionTable,
        events_backbone: EventBackbone,
        table_arn: str,
        key: kms.IKey,
        health_check: route53.IHealthCheck,
        throttle_rate_per_second: int = 100,
        throttle_burst: int = 200,
    ) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        self.connections = connections
        route = apigwv2.WebSocketRouteOptions
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name="caseline-live",
            description="Caseline live updates for the agent workspace",
            connect_route_options=route(
                integration=integrations.WebSocketLambdaIntegration("ConnectIntegration", connect.function)
            ),
            disconnect_route_options=route(
                integration=integrations.WebSocketLambdaIntegration("DisconnectIntegration", connect.function)
            ),
            default_route_options=route(
                integration=integrations.WebSocketLambdaIntegration("MessageIntegration", connect.function)
            ),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=retention(config.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle_rate_per_second, burst_limit=throttle_burst),
            access_log_settings=_AccessLogs(self.access_logs),
        )
        acknowledge(
            self.api,
            "APIG4",
            "The $connect route authenticates by the ?token= query parameter (browsers cannot send an "
            "Authorization header on a WebSocket): the connect function verifies the Cognito JWT against the "
            "staff user pool's JWKS and refuses the connection otherwise; later frames ride on that connection.",
        )
        # The https management endpoint of the stage: https://{api-id}.execute-api.{region}.amazonaws.com/live
        self.management_endpoint = f"https://{self.api.api_id}.execute-api.{region}.{cdk.Aws.URL_SUFFIX}/{STAGE}"
        self.regional_url = f"wss://{self.api.api_id}.execute-api.{region}.{cdk.Aws.URL_SUFFIX}/{STAGE}"
        self.public_url = config.websocket_url

        live_environment = {
            "CASELINE_CONNECTIONS_TABLE_NAME": connections.table.table_name,
            "CASELINE_WEBSOCKET_ENDPOINT": self.management_endpoint,
        }
        for made in (connect, fanout):
            for name, value in live_environment.items():
                made.function.add_environment(name, value)
            grant_table_data(made.role, table_arn=connections.table.table_arn, key=key, actions=TABLE_READ_WRITE)

        # Fan-out: every case event, from this region's bus, to every live staff connection.
        events_backbone.add_consumer("realtime-fanout", fanout, detail_types=events.Match.prefix(CASE_EVENTS_PREFIX))
        grant_table_data(fanout.role, table_arn=table_arn, key=key, actions=TABLE_READ)
        # arn:aws:execute-api:{region}:{account}:{api-id}/live/{POST|DELETE}/@connections/{connection-id}
        # The fan-out posts notices and deletes dead connections; the connect function only posts (pong).
        self._grant_management(fanout, MANAGEMENT_VERBS)
        self._grant_management(connect, ("POST",))
        self.domain = WebSocketDomain(self, "Domain", config=config, stage=self.stage, health_check=health_check)


    def _grant_management(self, made, verbs: tuple[str, ...]) -> None:
        stack = cdk.Stack.of(self)
        management = [
            stack.format_arn(
                service="execute-api",
                resource=self.api.api_id,
                resource_name=f"{STAGE}/{verb}/@connections/*",
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )
            for verb in verbs
        ]
        made.role.add_to_policy(iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=management))
        api_id = logical_id(self.api)
        for verb in verbs:
            acknowledge(
                made.role,
                f"IAM5[Resource::arn:<AWS::Partition>:execute-api:{stack.region}:{stack.account}:<{api_id}>/"
                f"{STAGE}/{verb}/@connections/*]",
                "Connection ids are minted by API Gateway per connection; the grant is this one API's live "
                "stage and its @connections resource, nothing else.",
            )


class WebSocketDomain(Construct):
    """`ws.<domain>` in this region: certificate, custom domain, mapping and this region's failover record.

    The record shares the REST API's health check: both APIs stand or fall with the region's functions
    and table, and one check keeps the two names failing over together.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        stage: apigwv2.WebSocketStage,
        health_check: route53.IHealthCheck,
    ) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        zone, certificate = zone_and_certificate(self, config, config.websocket_domain)
        self.domain = apigwv2.DomainName(
            self,
            "Domain",
            domain_name=config.websocket_domain,
            certificate=certificate,
            security_policy=apigwv2.SecurityPolicy.TLS_1_2,
        )
        apigwv2.ApiMapping(self, "Mapping", api=stage.api, domain_name=self.domain, stage=stage)
        primary = config.is_primary(region)
        self.record = route53.ARecord(
            self,
            "FailoverRecord",
            zone=zone,
            record_name=config.websocket_domain,
            target=route53.RecordTarget.from_alias(_EvaluatedV2DomainTarget(self.domain)),
            failover=route53.Failover.PRIMARY if primary else route53.Failover.SECONDARY,
            set_identifier=f"ws-{region}",
            health_check=health_check,
        )


@jsii.implements(route53.IAliasRecordTarget)
class _EvaluatedV2DomainTarget:
    """Alias to a regional API Gateway v2 domain that evaluates target health (required for failover)."""

    def __init__(self, domain: apigwv2.IDomainName) -> None:
        self._domain = domain

    def bind(
        self, _record: route53.IRecordSet, _zone: route53.IHostedZone | None = None
    ) -> route53.AliasRecordTargetConfig:
        return route53.AliasRecordTargetConfig(
            dns_name=self._domain.regional_domain_name,
            hosted_zone_id=self._domain.regional_hosted_zone_id,
            evaluate_target_health=True,
        )
