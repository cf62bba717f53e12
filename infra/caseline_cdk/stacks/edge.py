"""Edge: the web apps' hosting.

`EdgeStack` (primary region) holds the distributions, the primary buckets and the apps' Cognito clients
(the client belongs with the app whose URLs it trusts). `EdgeOriginStack` (secondary region) holds the
failover copies of the buckets that the distributions' origin groups fall back to.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from ..config import DeploymentConfig
from ..constructs.identity import web_client
from ..constructs.storage import AccessLogsBucket
from ..constructs.web import SITES, SiteFailoverOrigin, SpaSite
from ..nag import acknowledge_bucket_deployments
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
        # What the apps may call: the API, live updates, Cognito, and the attachment buckets of both
        # regions (uploads and downloads go straight to S3 through presigned URLs).
        connect_sources = [
            config.api_base_url,
            config.websocket_url,
            f"https://cognito-idp.{region}.amazonaws.com",
            f"https://*.auth.{region}.amazoncognito.com",
            *(f"https://{config.attachments_bucket_name(r)}.s3.{r}.amazonaws.com" for r in config.regions),
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
        # The runtime config each app fetches from /config.json (the shape the local gateway serves too).
        agent.deploy(
            web_dir=config.web_dir,
            runtime_config=spa_config(
                config, sign_in=identity.staff.domain.base_url(), client=self.agent_client, site_url=agent.url
            ),
        )
        portal.deploy(
            web_dir=config.web_dir,
            runtime_config=spa_config(
                config, sign_in=identity.customers.domain.base_url(), client=self.portal_client, site_url=portal.url
            ),
        )
        acknowledge_bucket_deployments(self, [site.bucket for site in self.sites.values()])
        outputs = {
            "AgentUrl": agent.url,
            "PortalUrl": portal.url,
            "AgentClientId": self.agent_client.user_pool_client_id,
            "PortalClientId": self.portal_client.user_pool_client_id,
            "AgentBucket": agent.bucket.bucket_name,
            "PortalBucket": portal.bucket.bucket_name,
            "AgentDistributionId": agent.distribution.distribution_id,
            "PortalDistributionId": portal.distribution.distribution_id,
            "ApiBaseUrl": config.api_base_url,
            "WebSocketUrl": config.websocket_url,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)

    @property
    def web_origins(self) -> list[str]:
        return [site.url for site in self.sites.values()]


def spa_config(
    config: DeploymentConfig, *, sign_in: str, client: cognito.IUserPoolClient, site_url: str
) -> dict[str, object]:
    """An app's `/config.json`: where the API and live updates are, and how to sign in (Cognito hosted UI).

    The API and WebSocket names are the failover names, not a region's endpoint, so the file never
    changes when a region fails over. `api_key` is the first-party usage plan's key, which every API
    method requires (ADR 0105): not a secret, it only selects the web apps' throttle; the app sends it as
    `X-Api-Key` beside the bearer token.
    """
    return {
        "api_base": config.api_base_url,
        "api_key": config.first_party_api_key,
        "ws_url": config.websocket_url,
        "auth": {
            "mode": "cognito",
            "domain": sign_in,
            "client_id": client.user_pool_client_id,
            "redirect_uri": f"{site_url}/",
        },
        "default_locale": "en",
    }
