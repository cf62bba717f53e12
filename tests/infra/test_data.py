"""Stateful data: the global table, the idempotency table, the data key and every bucket."""

from __future__ import annotations

import ast
import json
import re

import pytest
from aws_cdk.assertions import Match
from caseline.ports.table import INDEXES, TTL_ATTRIBUTE

from .conftest import PRIMARY, ROOT, SECONDARY, Synthesized

ALIAS_ARN = f"arn:aws:kms:{SECONDARY}:111111111111:alias/caseline-data"


def test_table_is_global_with_replica_pitr_deletion_protection_and_cmk(synth: Synthesized) -> None:
    template = synth.template("data-primary")
    replica = {
        "Region": SECONDARY,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
        "SSESpecification": {"KMSMasterKeyId": ALIAS_ARN},
    }
    home = {
        "Region": PRIMARY,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
        "SSESpecification": {"KMSMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^DataKey"), "Arn"]}},
    }
    template.has_resource(
        "AWS::DynamoDB::GlobalTable",
        {
            "Properties": Match.object_like(
                {
                    "TableName": "caseline",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                    "Replicas": Match.array_with([Match.object_like(replica), Match.object_like(home)]),
                }
            ),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def _indexes_named_in_code() -> set[str]:
    """Every `gsiN` string constant in the caseline package: the indexes the code queries or writes keys for."""
    names = set()
    for path in (ROOT / "layers" / "core" / "python" / "caseline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"gsi\d+", node.value):
                names.add(node.value)
    return names


def test_every_index_the_code_uses_exists_with_its_key_attributes(synth: Synthesized) -> None:
    (table,) = [
        t for t in synth.resources("data-primary", "AWS::DynamoDB::GlobalTable").values()
        if t["Properties"]["TableName"] == "caseline"
    ]  # fmt: skip
    props = table["Properties"]
    deployed = {
        gsi["IndexName"]: (
            {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]},
            gsi["Projection"]["ProjectionType"],
        )
        for gsi in props["GlobalSecondaryIndexes"]
    }
    used = _indexes_named_in_code()
    assert {"gsi1", "gsi4", "gsi5"} <= used  # the scan finds what the store queries
    assert used <= set(INDEXES)
    for name, (partition, sort) in INDEXES.items():
        if name is None:
            assert props["KeySchema"] == [
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ]
        else:
            assert deployed[name] == ({"HASH": partition, "RANGE": sort}, "ALL"), name
    assert set(deployed) == {name for name in INDEXES if name is not None}
    attribute_types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert attribute_types == {a: "S" for keys in INDEXES.values() for a in keys}
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


@pytest.mark.parametrize("key", ["service-primary", "service-secondary"])
def test_api_functions_may_query_every_index(synth: Synthesized, key: str) -> None:
    granted = set()
    for policy in synth.resources(key, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Action"] == "dynamodb:Query" or "dynamodb:Query" in statement["Action"]:
                granted |= set(re.findall(r"/index/(gsi\d+)", json.dumps(statement["Resource"])))
    assert granted == {name for name in INDEXES if name is not None}


def test_only_the_primary_owns_the_global_table(synth: Synthesized) -> None:
    names = [
        t["Properties"]["TableName"]
        for t in synth.resources("data-secondary", "AWS::DynamoDB::GlobalTable").values()
    ]
    assert names == ["caseline-idempotency"]


@pytest.mark.parametrize("key", ["data-primary", "data-secondary"])
def test_each_region_has_its_idempotency_table_and_rotating_data_key(synth: Synthesized, key: str) -> None:
    template = synth.template(key)
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "TableName": "caseline-idempotency",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        },
    )
    template.has_resource("AWS::KMS::Key", {"Properties": Match.object_like({"EnableKeyRotation": True}),
                                            "DeletionPolicy": "Retain"})  # fmt: skip
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/caseline-data"})


def test_attachments_are_versioned_encrypted_archived_and_replicated(synth: Synthesized) -> None:
    synth.template("data-primary").has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": f"caseline-attachments-111111111111-{PRIMARY}",
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})}
                    )
                ]
            },
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 180}]}
                        )
                    ]
                )
            },
            "ReplicationConfiguration": {
                "Role": Match.any_value(),
                "Rules": [
                    Match.object_like(
                        {
                            "Destination": Match.object_like(
                                {"EncryptionConfiguration": {"ReplicaKmsKeyID": ALIAS_ARN}}
                            ),
                            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                        }
                    )
                ],
            },
        },
    )


def test_the_secondary_attachment_bucket_is_the_replication_target(synth: Synthesized) -> None:
    (bucket,) = [
        b
        for b in synth.resources("data-primary", "AWS::S3::Bucket").values()
        if "ReplicationConfiguration" in b["Properties"]
    ]
    destination = bucket["Properties"]["ReplicationConfiguration"]["Rules"][0]["Destination"]["Bucket"]
    assert f"caseline-attachments-111111111111-{SECONDARY}" in str(destination)
    synth.template("data-secondary").has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": f"caseline-attachments-111111111111-{SECONDARY}",
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )


def test_every_bucket_blocks_public_access_and_enforces_tls(synth: Synthesized) -> None:
    checked = 0
    for key in synth.keys:
        buckets = synth.resources(key, "AWS::S3::Bucket")
        policies = synth.resources(key, "AWS::S3::BucketPolicy")
        for logical_id, bucket in buckets.items():
            assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }, logical_id
            (policy,) = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": logical_id}]
            denies_plain_http = [
                s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            ]  # fmt: skip
            assert denies_plain_http, logical_id
            checked += 1
    assert checked >= 9
