"""The table port on DynamoDB, one request per call: GetItem, Query, TransactWriteItems, UpdateItem.

Reads of the table are strongly consistent (GSIs cannot be). Expired items that DynamoDB has not yet
swept are filtered out by the FilterExpression of a Query (where, like any filter, they still count
toward Limit) and after a GetItem. A transaction of one Put, Delete or Increment is sent as the single
item call, which costs half the write capacity of TransactWriteItems and behaves the same.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from ...ports.table import (
    INDEXES,
    TTL_ATTRIBUTE,
    Check,
    Delete,
    Increment,
    Item,
    Key,
    Page,
    Put,
    Query,
    Table,
    TransactionCancelled,
    WriteOp,
    is_expired,
)
from ..table_rules import check_increment, check_key, check_ops, check_query
from .clients import client as aws_client
from .dynamodb_expressions import Expression, from_attribute_values, to_attribute_values

_ALWAYS = "attribute_exists({pk}) OR attribute_not_exists({pk})"


class DynamoDbTable(Table):
    def __init__(self, table_name: str, *, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client
        self._client_lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The low-level client, created on first use so that importing this module costs nothing."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = aws_client("dynamodb")
        return self._client

    # --- reads ------------------------------------------------------------------------------------------
    def get(self, key: Key, *, now: int) -> Item | None:
        check_key(key)
        response = self.client.get_item(
            TableName=self.table_name, Key=to_attribute_values(key), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        item = from_attribute_values(response["Item"])
        return None if is_expired(item, now) else item

    def query(self, query: Query, *, now: int) -> Page:
        check_query(query)
        partition_attr, sort_attr = INDEXES[query.index]
        expr = Expression()
        key_condition = f"{expr.name(partition_attr)} = {expr.value(query.partition)}"
        if query.sort is not None:
            key_condition += f" AND {expr.sort(sort_attr, query.sort)}"
        ttl = expr.name(TTL_ATTRIBUTE)
        filters = [f"(attribute_not_exists({ttl}) OR {ttl} > {expr.value(now)})"]
        filters += [expr.equals(name, value) for name, value in query.filter_equals]
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": key_condition,
            "FilterExpression": " AND ".join(filters),
            "ScanIndexForward": query.forward,
            **expr.parameters(),
        }
        if query.index is None:
            request["ConsistentRead"] = True
        else:
            request["IndexName"] = query.index
        if query.limit is not None:
            request["Limit"] = query.limit
        if query.start_after is not None:
            request["ExclusiveStartKey"] = to_attribute_values(query.start_after)
        response = self.client.query(**request)
        items = [from_attribute_values(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return Page(items, from_attribute_values(last) if last else None)

    def scan(self) -> Iterator[Item]:
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table_name, ConsistentRead=True):
            for item in page.get("Items", []):
                yield from_attribute_values(item)

    # --- writes -----------------------------------------------------------------------------------------
    def transact(self, ops: Sequence[WriteOp]) -> None:
        check_ops(ops)
        if not ops:
            return
        if len(ops) == 1 and not isinstance(ops[0], Check):
            self._write_one(ops[0])
            return
        try:
            self.client.transact_write_items(TransactItems=[self._transact_item(op) for op in ops])
        except ClientError as exc:
            if _error_code(exc) != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            failed = [i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
            if not failed:
                raise  # a conflict or throttling, not a condition: the caller may retry
            raise TransactionCancelled(failed) from exc

    def increment(self, key: Key, attribute: str, by: int = 1) -> int:
        check_key(key)
        check_increment(Increment(key, {attribute: by}))
        expr = Expression()
        response = self.client.update_item(
            TableName=self.table_name,
            Key=to_attribute_values(key),
            UpdateExpression=f"ADD {expr.name(attribute)} {expr.value(by)}",
            ReturnValues="UPDATED_NEW",
            **expr.parameters(),
        )
        return int(from_attribute_values(response["Attributes"])[attribute])

    def _write_one(self, op: Put | Delete | Increment) -> None:
        request = self._request(op)
        call = {
            Put: self.client.put_item,
            Delete: self.client.delete_item,
            Increment: self.client.update_item,
        }[type(op)]
        try:
            call(**request)
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                raise TransactionCancelled([0]) from exc
            raise

    def _transact_item(self, op: WriteOp) -> dict[str, Any]:
        kind = {Put: "Put", Delete: "Delete", Check: "ConditionCheck", Increment: "Update"}[type(op)]
        return {kind: self._request(op)}

    def _request(self, op: WriteOp) -> dict[str, Any]:
        """The parameters of `op`, valid both inside TransactWriteItems and as a single-item call."""
        expr = Expression()
        request: dict[str, Any] = {"TableName": self.table_name}
        if isinstance(op, Put):
            request["Item"] = to_attribute_values(op.item)
        else:
            request["Key"] = to_attribute_values(op.key)
        if isinstance(op, Increment):
            request["UpdateExpression"] = _update_expression(op, expr)
        else:
            condition = expr.condition(op.condition) if op.condition is not None else None
            if condition is None and isinstance(op, Check):
                condition = _ALWAYS.format(pk=expr.name("pk"))  # ConditionCheck requires an expression
            if condition is not None:
                request["ConditionExpression"] = condition
        return {**request, **expr.parameters()}


def _update_expression(op: Increment, expr: Expression) -> str:
    """SET with if_not_exists, not ADD: a delta must start from its default, and ADD cannot see one."""
    clauses = []
    for name, delta in op.deltas.items():
        attribute = expr.name(name)
        start = expr.value(op.defaults.get(name, 0))
        clauses.append(f"{attribute} = if_not_exists({attribute}, {start}) + {expr.value(delta)}")
    for name, value in op.defaults.items():
        if name not in op.deltas:
            attribute = expr.name(name)
            clauses.append(f"{attribute} = if_not_exists({attribute}, {expr.value(value)})")
    return "SET " + ", ".join(clauses)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def create_table(client: Any, name: str) -> dict[str, Any]:
    """Create the single table as production has it; returns its description once it is ACTIVE.

    Used by the contract tests on moto and by the AWS bootstrap, so the two cannot drift apart.
    """
    gsis = {index: keys for index, keys in INDEXES.items() if index is not None}
    attributes = sorted({attribute for keys in INDEXES.values() for attribute in keys})
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": partition, "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (partition, sort) in gsis.items()
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
    return client.describe_table(TableName=name)["Table"]
