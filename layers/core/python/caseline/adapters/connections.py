"""The connection registry over the Table port: DynamoDB (the connection table) in AWS, SQLite locally."""

from __future__ import annotations

from ..domain.auth import Role
from ..ports.connections import ConnectionRegistry, LiveConnection
from ..ports.table import Item, Key, Query, Table
from . import connection_keys as keys

PAGE_SIZE = 500


class TableConnectionRegistry(ConnectionRegistry):
    """`scope` names the partition: the AWS region (each region has its own WebSocket API) or "local"."""

    def __init__(self, table: Table, *, scope: str) -> None:
        self.table = table
        self.scope = scope

    def add(self, connection: LiveConnection) -> None:
        item: Item = {
            **keys.connection(self.scope, connection.connection_id),
            "entity": keys.CONNECTION_ENTITY,
            "principal_id": connection.principal_id,
            "role": connection.role.value,
            "staff": connection.is_staff,
            "expires_at": connection.expires_at,
        }
        self.table.put(item)

    def remove(self, connection_id: str) -> None:
        self.table.delete(keys.connection(self.scope, connection_id))

    def live_staff(self, *, now: int) -> list[LiveConnection]:
        found: list[LiveConnection] = []
        start: Key | None = None
        while True:
            page = self.table.query(
                Query(keys.connections_partition(self.scope), limit=PAGE_SIZE, start_after=start,
                      filter_equals=(("staff", True),)),
                now=now,
            )
            found.extend(
                LiveConnection(connection_id=item["sk"], principal_id=item["principal_id"], role=Role(item["role"]),
                               expires_at=item["expires_at"])
                for item in page.items
            )
            if page.last_key is None:
                return found
            start = page.last_key
