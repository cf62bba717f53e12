"""Stateful data of one region: the data key, tables and attachments.

Deployed rarely and never replaced. The primary region's stack owns the global table (and so its replica
in the secondary region); the secondary region's stack must exist first, because the replica and the
attachment replication are encrypted with the secondary region's data key.
"""

from __future__ import annotations

import aws_cdk as cdk
from caseline.settings import Settings
from constructs import Construct

from ..config import DeploymentConfig
from ..constructs.storage import AccessLogsBucket, AttachmentsBucket, CaseTable, DataKey, IdempotencyTable


class DataStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        settings: Settings,
        region: str,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=region),
            description=f"Caseline stateful data ({region})",
            termination_protection=True,
        )
        self.key = DataKey(self, "DataKey", config=config).key
        access_logs = AccessLogsBucket(self, "AccessLogs").bucket
        self.idempotency_table = IdempotencyTable(
            self, "Idempotency", table_name=settings.idempotency_table_name, key=self.key
        ).table
        self.attachments = AttachmentsBucket(
            self, "Attachments", config=config, region=region, key=self.key, access_logs=access_logs
        ).bucket
        self.table = (
            CaseTable(self, "Cases", config=config, table_name=settings.table_name, key=self.key).table
            if config.is_primary(region)
            else None
        )
