"""Static hosting for the two single-page apps (`web/agent`, `web/portal`).

Each app is a private S3 bucket behind CloudFront with origin access control. The distribution's origin is
an origin group: the primary region's bucket, failing over per request to the secondary region's copy
(kept in sync by S3 replication) when the primary answers with a 5xx. Unknown paths fall back to
`index.html` so the app's router handles deep links, and every response carries security headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from ..config import DeploymentConfig
from ..nag import acknowledge_all
from .storage import ReplicationRole

SITES = ("agent", "portal")
CONFIG_FILE = "config.json"
PLACEHOLDER_PAGE = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Caseline</title></head>"
    "<body><p>This app has not been built. Run <code>make web</code> and deploy again.</p></body></html>"
)


def built_bundle(web_dir: Path, site: str) -> Path | None:
    """`web/<site>/dist` when the app has been built (it has an index.html), else None."""
    dist = web_dir / site / "dist"
    return dist if (dist / "index.html").is_file() else None


def bundle_source(web_dir: Path, site: str) -> s3deploy.ISource:
    """The built app, or a one-page placeholder made at synth time, so synth never needs a web build.

    The placeholder is written by the CDK into a temporary directory and staged into the cloud assembly
    like any asset; nothing is created in the repository.
    """
    dist = built_bundle(web_dir, site)
    if dist is None:
        return s3deploy.Source.data("index.html", PLACEHOLDER_PAGE)
    return s3deploy.Source.asset(str(dist), exclude=[CONFIG_FILE])


def _site_bucket(scope: Construct, *, name: str, access_logs: s3.IBucket, **extra: object) -> s3.Bucket:
    return s3.Bucket(
        scope,
        "Bucket",
        bucket_name=name,
        versioned=True,  # replication needs it on both sides; it also makes a bad upload reversible
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=f"{name}/",
        lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(30))],
        removal_policy=cdk.RemovalPolicy.DESTROY,
        auto_delete_objects=False,
        **extra,  # type: ignore[arg-type]
    )


class SiteFailoverOrigin(Construct):
    """The secondary region's copy of one site, readable only by CloudFront distributions of our account.

    The distribution lives in the primary region and is created after this bucket, so its id cannot be
    named here; the condition pins the account instead. The content is the public web bundle either way.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        site: str,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        self.bucket = _site_bucket(self, name=config.web_bucket_name(site, region), access_logs=access_logs)
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontOriginAccessControl",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={
                    "StringEquals": {"AWS:SourceAccount": config.account},
                    "ArnLike": {"AWS:SourceArn": f"arn:aws:cloudfront::{config.account}:distribution/*"},
                },
            )
        )


class SpaSite(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        site: str,
        access_logs: s3.IBucket,
        connect_sources: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.site = site
        primary, secondary = config.regions
        replica = s3.Bucket.from_bucket_attributes(
            self,
            "Replica",
            bucket_name=config.web_bucket_name(site, secondary),
            region=secondary,
            account=config.account,
        )
        self.bucket = _site_bucket(
            self,
            name=config.web_bucket_name(site, primary),
            access_logs=access_logs,
            replication_role=ReplicationRole(
                self,
                "Replication",
                config=config,
                source_bucket=config.web_bucket_name(site, primary),
                destination_bucket=config.web_bucket_name(site, secondary),
            ).role,
            replication_rules=[s3.ReplicationRule(destination=replica, priority=0, delete_marker_replication=True)],
        )
        oac = cloudfront.S3OriginAccessControl(self, "OriginAccess", signing=cloudfront.Signing.SIGV4_ALWAYS)
        origin = origins.OriginGroup(
            primary_origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket, origin_access_control=oac),
            fallback_origin=origins.S3BucketOrigin.with_origin_access_control(replica, origin_access_control=oac),
            fallback_status_codes=[500, 502, 503, 504],
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment=f"caseline {site}: security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=(
                        "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
                        f"connect-src 'self' {' '.join(connect_sources)}; frame-ancestors 'none'; "
                        "base-uri 'self'; form-action 'self'; object-src 'none'"
                    ),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(365),
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
            ),
        )
        spa_fallback = [
            cloudfront.ErrorResponse(
                http_status=status,
                response_http_status=200,
                response_page_path="/index.html",
                ttl=cdk.Duration.seconds(0),
            )
            for status in (403, 404)
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"caseline {site}",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            error_responses=spa_fallback,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix=f"cloudfront/{site}/",
        )
        cdk.Annotations.of(self.distribution).acknowledge_warning(
            "@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac",
            "the failover bucket's policy is written by SiteFailoverOrigin in the secondary region's stack",
        )
        acknowledge_all(
            self.distribution,
            {
                "CFR1": "A support portal must be reachable by customers wherever they are; geo "
                "restriction would be a product decision per deployment, not a default.",
                "CFR2": "CloudFront web ACLs must be created in us-east-1, which this two-region "
                "deployment does not bootstrap; the distribution serves only the static app bundle, and "
                "the API it calls has its own web ACL.",
                "CFR4": "The distribution uses the default CloudFront certificate, whose TLS policy "
                "CloudFront fixes; a custom domain with TLSv1.2_2021 needs a us-east-1 certificate.",
            },
        )

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"

    def deploy(self, *, web_dir: Path, runtime_config: Mapping[str, object]) -> None:
        """Upload the app and, next to it, the `/config.json` the app reads at start.

        Two deployments: the bundle (pruning what a new build no longer has, but never config.json), and
        the config, which is served with `no-cache` so a redeploy's values reach browsers at once. Both
        invalidate what they changed; replication copies both to the failover bucket.
        """
        self.bundle = s3deploy.BucketDeployment(
            self,
            "Bundle",
            sources=[bundle_source(web_dir, self.site)],
            destination_bucket=self.bucket,
            exclude=[CONFIG_FILE],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
        self.config = s3deploy.BucketDeployment(
            self,
            "Config",
            sources=[s3deploy.Source.json_data(CONFIG_FILE, dict(runtime_config))],
            destination_bucket=self.bucket,
            prune=False,
            cache_control=[s3deploy.CacheControl.no_cache()],
            content_type="application/json",
            distribution=self.distribution,
            distribution_paths=[f"/{CONFIG_FILE}"],
            memory_limit=512,  # the same as the bundle's, so both share the one handler function
        )
