"""`api.<domain>` in one region: certificate, custom domain, health check and failover record.

Both regions serve the same name. Each region's stack writes its own half of the failover pair: the
primary region the PRIMARY record, the secondary region the SECONDARY one, each with a health check on
its own region's `/health` (which reads the table). Route 53 answers with the primary while its check
passes and switches to the secondary by itself when it fails; no stack has to know the other region's
resources, so neither region's deploy depends on the other being up.

The health check calls the regional execute-api endpoint rather than `api.<domain>`: the public name is
the thing being failed over, so checking it would check whichever region currently answers.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from constructs import Construct

from ..config import DeploymentConfig


class RegionalApiDomain(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        api: apigw.RestApi,
        health_path: str,  # as the execute-api endpoint sees it, with the stage: /live/health
    ) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        zone, certificate = zone_and_certificate(self, config, config.api_domain)
        self.domain = apigw.DomainName(
            self,
            "Domain",
            domain_name=config.api_domain,
            certificate=certificate,
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
        )
        self.domain.add_base_path_mapping(api, stage=api.deployment_stage)
        self.health_check = route53.HealthCheck(
            self,
            "HealthCheck",
            type=route53.HealthCheckType.HTTPS,
            fqdn=f"{api.rest_api_id}.execute-api.{region}.{cdk.Aws.URL_SUFFIX}",
            resource_path=health_path,
            request_interval=cdk.Duration.seconds(10),
            failure_threshold=3,
            measure_latency=True,
        )
        primary = config.is_primary(region)
        self.record = route53.ARecord(
            self,
            "FailoverRecord",
            zone=zone,
            record_name=config.api_domain,
            target=route53.RecordTarget.from_alias(_EvaluatedDomainTarget(self.domain)),
            failover=route53.Failover.PRIMARY if primary else route53.Failover.SECONDARY,
            set_identifier=f"api-{region}",
            health_check=self.health_check,
        )


@jsii.implements(route53.IAliasRecordTarget)
class _EvaluatedDomainTarget:
    """An alias to a regional API domain that also evaluates the target's health, which Route 53 requires
    of failover aliases (the stock `ApiGatewayDomain` target leaves it unset)."""

    def __init__(self, domain: apigw.IDomainName) -> None:
        self._domain = domain

    def bind(
        self, _record: route53.IRecordSet, _zone: route53.IHostedZone | None = None
    ) -> route53.AliasRecordTargetConfig:
        return route53.AliasRecordTargetConfig(
            dns_name=self._domain.domain_name_alias_domain_name,
            hosted_zone_id=self._domain.domain_name_alias_hosted_zone_id,
            evaluate_target_health=True,
        )


def zone_and_certificate(
    scope: Construct, config: DeploymentConfig, domain_name: str
) -> tuple[route53.IHostedZone, acm.Certificate]:
    """The deployment's hosted zone and a DNS-validated certificate for one of its names, in `scope`."""
    zone = route53.HostedZone.from_hosted_zone_attributes(
        scope, "Zone", hosted_zone_id=config.hosted_zone_id, zone_name=config.domain_name
    )
    certificate = acm.Certificate(
        scope, "Certificate", domain_name=domain_name, validation=acm.CertificateValidation.from_dns(zone)
    )
    return zone, certificate
