"""Stateful building blocks: the data key, the tables and the buckets.

Each class is one concern. They live in the data stacks, whose lifecycle is "never replace, never delete":
retain on removal, deletion protection where the service has it, names that do not change.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from caseline.ports.table import INDEXES, TTL_ATTRIBUTE
from constructs import Construct

from ..config import DeploymentConfig
from ..nag import acknowledge, acknowledge_all

# The table's key attributes and its global secondary indexes come from the table port, the one place the
# code names them: an index the code queries cannot be missing from the deployed table.
TABLE_KEYS = INDEXES[None]
GSI_KEYS = {name: keys for name, keys in INDEXES.items() if name is not None}
GSI_NAMES = tuple(GSI_KEYS)


class DataKey(Construct):
    """The customer-managed KMS key for everything Caseline stores in one region.

    The alias is the same in every region, so a stack in the other region can name this key by alias ARN
    before it knows the key id (DynamoDB replicas and S3 replication accept alias ARNs).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            alias=config.data_key_alias,
            description="Caseline data at rest: table, idempotency table, attachments",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )


class CaseTable(Construct):
    """The single table, as a global table with its replica in the secondary region.

    Streams carry new and old images (the outbox publisher needs the new image, auditing the old); TTL on
    `expires_at` lets outbox items and other ephemera expire for free.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        table_name: str,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        string = dynamodb.AttributeType.STRING
        self.table = dynamodb.TableV2(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name=TABLE_KEYS[0], type=string),
            sort_key=dynamodb.Attribute(name=TABLE_KEYS[1], type=string),
            billing=dynamodb.Billing.on_demand(),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=name,
                    partition_key=dynamodb.Attribute(name=partition, type=string),
                    sort_key=dynamodb.Attribute(name=sort, type=string),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for name, (partition, sort) in GSI_KEYS.items()
            ],
            time_to_live_attribute=TTL_ATTRIBUTE,
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(
                key,
                replica_key_arns={config.secondary_region: config.data_key_alias_arn(config.secondary_region)},
            ),
            replicas=[dynamodb.ReplicaTableProps(region=config.secondary_region)],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )


class IdempotencyTable(Construct):
    """The Powertools idempotency store (its default key `id` and TTL `expiration`).

    Regional, not global: a record lives minutes, and replicating it would not make a retry that lands in
    the other region safe anyway (replication is asynchronous). Each region has its own.
    """

    def __init__(self, scope: Construct, construct_id: str, *, table_name: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            time_to_live_attribute="expiration",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )


class AccessLogsBucket(Construct):
    """Server access logs for the region's buckets, and CloudFront standard logs where asked.

    CloudFront's standard logging still writes with ACLs, so only a bucket that receives CloudFront logs
    keeps ACLs ("bucket owner preferred"); the others have ACLs disabled and S3 log delivery is granted
    by bucket policy.
    """

    def __init__(self, scope: Construct, construct_id: str, *, for_cloudfront: bool = False) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=(
                s3.ObjectOwnership.BUCKET_OWNER_PREFERRED
                if for_cloudfront
                else s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
            ),
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.bucket,
            "S1",
            "This is the access-log destination itself; logging it into itself would loop and "
            "logging it elsewhere only moves the question one bucket further.",
        )


class AttachmentsBucket(Construct):
    """Case attachments: versioned, encrypted with the data key, private, TLS only.

    Objects move to Glacier Instant Retrieval after 180 days: by then nearly every case is solved, and the
    instant-retrieval class keeps an old attachment one click away for an agent at a fraction of the cost.
    In the primary region every object is replicated to the secondary region's bucket.
    """

    ARCHIVE_AFTER_DAYS = 180

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        region: str,
        key: kms.IKey,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        replication: dict[str, object] = {}
        if config.is_primary(region):
            replication = self._replication(config, key)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=config.attachments_bucket_name(region),
            versioned=True,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="attachments/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="archive-old-cases",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=cdk.Duration.days(self.ARCHIVE_AFTER_DAYS),
                        )
                    ],
                    noncurrent_version_expiration=cdk.Duration.days(90),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
            **replication,  # type: ignore[arg-type]
        )

    def _replication(self, config: DeploymentConfig, key: kms.IKey) -> dict[str, object]:
        """Replicate every object, KMS-encrypted ones included, to the secondary region's bucket."""
        primary, secondary = config.regions
        destination = s3.Bucket.from_bucket_attributes(
            self,
            "Replica",
            bucket_name=config.attachments_bucket_name(secondary),
            region=secondary,
            account=config.account,
        )
        role = ReplicationRole(
            self,
            "Replication",
            config=config,
            source_bucket=config.attachments_bucket_name(primary),
            destination_bucket=config.attachments_bucket_name(secondary),
            source_key=key,
        ).role
        return {
            "replication_role": role,
            "replication_rules": [
                s3.ReplicationRule(
                    destination=destination,
                    kms_key=kms.Key.from_key_arn(self, "ReplicaKey", config.data_key_alias_arn(secondary)),
                    sse_kms_encrypted_objects=True,
                    delete_marker_replication=True,
                    priority=0,
                )
            ],
        }


class ReplicationRole(Construct):
    """The role S3 assumes to copy one bucket into its secondary-region twin, and nothing more.

    Buckets are named by `DeploymentConfig`, so the role can be written before either bucket exists
    (it is a property of the source bucket). When the source is encrypted with the data key, the role
    may decrypt with it through S3 only, and encrypt with the destination region's key, which it can
    only name by alias: IAM authorizes KMS calls against key ARNs, so the statement allows any key in
    that region and account *whose alias is ours*, nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        source_bucket: str,
        destination_bucket: str,
        source_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        secondary = config.secondary_region
        source_arn, destination_arn = f"arn:aws:s3:::{source_bucket}", f"arn:aws:s3:::{destination_bucket}"
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
            description=f"S3 replication {source_bucket} -> {destination_bucket}",
        )
        statements = [
            iam.PolicyStatement(actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[source_arn]),
            iam.PolicyStatement(
                actions=[
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                resources=[f"{source_arn}/*"],
            ),
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                resources=[f"{destination_arn}/*"],
            ),
        ]
        findings = {
            f"IAM5[Resource::{source_arn}/*]": "Replication reads every object version of the source "
            "bucket; object ARNs can only be granted by prefix, here the whole bucket.",
            f"IAM5[Resource::{destination_arn}/*]": "Replication writes every object into the twin "
            "bucket; object ARNs can only be granted by prefix, here the whole bucket.",
        }
        if source_key is not None:
            statements.append(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[source_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{config.primary_region}.amazonaws.com"}},
                )
            )
            replica_keys = f"arn:aws:kms:{secondary}:{config.account}:key/*"
            statements.append(
                iam.PolicyStatement(
                    actions=["kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[replica_keys],
                    conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": config.data_key_alias}},
                )
            )
            findings[f"IAM5[Resource::{replica_keys}]"] = (
                "The replica key lives in the other region and its id is unknown here; the statement is "
                "narrowed by the kms:ResourceAliases condition to the key carrying our alias."
            )
        for statement in statements:
            self.role.add_to_policy(statement)
        acknowledge_all(self.role, findings)


# Table permissions, spelled out. The CDK's grant_read_write_data would add Scan (the design allows no
# Scan on a request path), `index/*` and KMS wildcards; listing the actions and the indexes by name keeps
# each function's role to what the single-table access patterns use.
TABLE_READ_WRITE = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
KEY_USE = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")


def grant_table_data(
    grantee: iam.IGrantable,
    *,
    table_arn: str,
    key: kms.IKey,
    actions: tuple[str, ...] = TABLE_READ_WRITE,
    indexes: tuple[str, ...] = (),
) -> None:
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=[table_arn]))
    if indexes:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{table_arn}/index/{name}" for name in indexes])
        )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(KEY_USE if "dynamodb:PutItem" in actions else ("kms:Decrypt",)),
            resources=[key.key_arn],
        )
    )
