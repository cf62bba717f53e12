"""Edge: the web apps' hosting.

`EdgeStack` (primary region) holds the distributions, the primary buckets and the apps' Cognito clients
(the client belongs with the app whose URLs it trusts). `EdgeOriginStack` (secondary region) holds the
failover copies of the buckets that the distributions' origin groups fall back to.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from ..config import DeploymentConfig
from ..constructs.identity import web_client
from ..constructs.storage import AccessLogsBucket
from ..constructs.web import SITES, SiteFailoverOrigin, SpaSite
from .identity import IdentityStack


class EdgeOriginStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=config.secondary_region),
            description="Caseline web apps: failover origins",
        )
        access_logs = AccessLogsBucket(self, "AccessLogs").bucket
        self.origins = {
            site: SiteFailoverOrigin(self, f"{site.title()}Origin", config=config, site=site, access_logs=access_logs)
            for site in SITES
        }


class EdgeStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, identity: IdentityStack
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=config.primary_region),
            description="Caseline web apps: CloudFront distributions and their app clients",
            cross_region_references=True,
        )
        region = config.primary_region
        access_logs = AccessLogsBucket(self, "AccessLogs", for_cloudfront=True).bucket
        connect_sources = [
            f"https://{config.api_domain}",
            f"https://cognito-idp.{region}.amazonaws.com",
            f"https://*.auth.{region}.amazoncognito.com",
        ]
        self.sites = {
            site: SpaSite(
                self,
                f"{site.title()}Site",
                config=config,
                site=site,
                access_logs=access_logs,
                connect_sources=connect_sources,
            )
            for site in SITES
        }
        agent, portal = self.sites["agent"], self.sites["portal"]
        self.agent_client = web_client(
            self,
            "AgentClient",
            pool=identity.staff.pool,
            callback_urls=[f"{agent.url}/"],
            identity_providers=identity.staff.identity_providers,
        )
        self.portal_client = web_client(
            self, "PortalClient", pool=identity.customers.pool, callback_urls=[f"{portal.url}/"]
        )
        # What the web builds need at run time (written into their config.json by the deploy step).
        outputs = {
            "AgentUrl": agent.url,
            "PortalUrl": portal.url,
            "AgentClientId": self.agent_client.user_pool_client_id,
            "PortalClientId": self.portal_client.user_pool_client_id,
            "AgentBucket": agent.bucket.bucket_name,
            "PortalBucket": portal.bucket.bucket_name,
            "AgentDistributionId": agent.distribution.distribution_id,
            "PortalDistributionId": portal.distribution.distribution_id,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)

    @property
    def web_origins(self) -> list[str]:
        return [site.url for site in self.sites.values()]
