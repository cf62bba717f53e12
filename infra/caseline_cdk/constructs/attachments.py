"""What the API needs of the region's attachments bucket: object access for presigned URLs, and CORS.

Browsers upload with a presigned PUT and download with a presigned GET straight from S3, so the functions
that sign those URLs need `s3:PutObject`/`s3:GetObject` (a presigned URL carries the signer's rights, and
HeadObject, which checks an upload's size, is authorized by `s3:GetObject`), and the bucket must answer
CORS preflights from the web apps' origins.

The bucket belongs to the data stack, which is deployed before the web distributions exist; their origins
are only known to the stacks deployed after them. So the CORS rules are written by this construct, from
the service stack, with one `PutBucketCors` call at deploy time (and removed with `DeleteBucketCors`).
The data stack's template does not declare CORS at all, so its updates never touch these rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from ..nag import acknowledge
from .functions import CaselineFunction

OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject")
CORS_METHODS = ("GET", "HEAD", "PUT")
CORS_HEADERS = ("Content-Type", "Content-MD5", "x-amz-*")


class AttachmentAccess(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        allowed_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        # Named, not referenced: the data stack derives the same name from the deployment config.
        self.bucket_name = bucket_name
        self.bucket_arn = f"arn:aws:s3:::{bucket_name}"
        rules = {
            "CORSRules": [
                {
                    "AllowedOrigins": list(allowed_origins),
                    "AllowedMethods": list(CORS_METHODS),
                    "AllowedHeaders": list(CORS_HEADERS),
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        }
        self.cors = cr.AwsCustomResource(
            self,
            "Cors",
            on_update=cr.AwsSdkCall(
                service="S3",
                action="putBucketCors",
                parameters={"Bucket": bucket_name, "CORSConfiguration": rules},
                physical_resource_id=cr.PhysicalResourceId.of(f"{bucket_name}-cors"),
            ),
            on_delete=cr.AwsSdkCall(
                service="S3",
                action="deleteBucketCors",
                parameters={"Bucket": bucket_name},
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["s3:PutBucketCORS"], resources=[self.bucket_arn])]
            ),
            install_latest_aws_sdk=False,
        )

    def grant_signing(self, made: CaselineFunction) -> None:
        """Let a function sign upload and download URLs for (and check) attachment objects."""
        objects = f"{self.bucket_arn}/*"
        made.role.add_to_policy(iam.PolicyStatement(actions=list(OBJECT_ACTIONS), resources=[objects]))
        acknowledge(
            made.role,
            f"IAM5[Resource::{objects}]",
            "Attachment keys are minted per case and upload; the grant is get/put on this region's "
            "attachments bucket only (no list, no delete), encrypted with the data key the role already uses.",
        )
