"""The rules DynamoDB enforces on items and requests, checked before either table adapter stores anything.

DynamoDB refuses these on the server. Checking them here, for both adapters, means the embedded table
refuses exactly what AWS refuses, and callers see the same ValueError/TypeError on both instead of a
botocore ClientError on one and silent success on the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..ports.table import (
    INDEXES,
    MAX_TRANSACTION_ITEMS,
    TTL_ATTRIBUTE,
    Increment,
    Item,
    Key,
    Put,
    Query,
    SortOp,
    WriteOp,
)

MAX_ITEM_BYTES = 400 * 1024
MAX_NUMBER = 10**38  # DynamoDB numbers carry at most 38 significant digits
KEY_ATTRIBUTES = ("pk", "sk")
INDEX_KEY_ATTRIBUTES = frozenset(name for index in INDEXES.values() for name in index)


def check_key(key: Key) -> None:
    if set(key) != set(KEY_ATTRIBUTES):
        raise ValueError(f"a key has exactly the attributes pk and sk, not {sorted(key)}")
    for name in KEY_ATTRIBUTES:
        _check_key_string(name, key[name])


def check_item(item: Item) -> None:
    for name in KEY_ATTRIBUTES:
        if name not in item:
            raise ValueError(f"an item needs {name}")
    for name, value in item.items():
        if type(value) is not str:  # plain strings (nearly every value) pass check_value as they are
            check_value(name, value)
        if name in INDEX_KEY_ATTRIBUTES:
            _check_key_string(name, value)
    expires = item.get(TTL_ATTRIBUTE)
    if TTL_ATTRIBUTE in item and (isinstance(expires, bool) or not isinstance(expires, int)):
        raise TypeError(f"{TTL_ATTRIBUTE} must be an int (epoch seconds), not {expires!r}")
    if item_size(item) > MAX_ITEM_BYTES:
        raise ValueError(f"item {item['pk']!r}/{item['sk']!r} is larger than DynamoDB's 400 KB")


def check_value(name: str, value: Any) -> None:
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if abs(value) >= MAX_NUMBER:
            raise ValueError(f"{name}: {value} has more digits than DynamoDB keeps")
        return
    raise TypeError(f"{name}: items hold str, int, bool or None, not {type(value).__name__}")


def check_ops(ops: Sequence[WriteOp]) -> None:
    if len(ops) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} operations, not {len(ops)}")
    seen: set[tuple[str, str]] = set()
    for op in ops:
        if isinstance(op, Put):
            check_item(op.item)
        key = op_key(op)
        check_key(key)
        if (key["pk"], key["sk"]) in seen:
            raise ValueError(f"a transaction may touch {key} only once")
        seen.add((key["pk"], key["sk"]))
        if isinstance(op, Increment):
            check_increment(op)
        elif op.condition is not None:
            for name, value in op.condition.equals:
                check_value(name, value)


def check_increment(op: Increment) -> None:
    if not op.deltas:
        raise ValueError("an increment needs at least one delta")
    for name in [*op.deltas, *op.defaults]:
        if name in KEY_ATTRIBUTES:
            raise ValueError(f"an increment cannot change the key attribute {name}")
    for name, delta in op.deltas.items():
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"{name}: a delta is an int, not {delta!r}")
        if name in INDEX_KEY_ATTRIBUTES:
            raise TypeError(f"{name} is an index key, a string; it cannot be incremented")
    check_item({**op.key, **op.defaults})


def check_query(query: Query) -> None:
    partition_attr, sort_attr = INDEXES[query.index]
    _check_key_string(partition_attr, query.partition)
    if query.sort is not None:
        _check_key_string(sort_attr, query.sort.value)
        if query.sort.op is SortOp.BETWEEN:
            if query.sort.upper is None:
                raise ValueError("BETWEEN needs an upper bound")
            _check_key_string(sort_attr, query.sort.upper)
            if query.sort.value > query.sort.upper:
                raise ValueError("BETWEEN needs its lower bound first")
    if query.start_after is not None:
        expected = {*KEY_ATTRIBUTES, partition_attr, sort_attr}
        if set(query.start_after) != expected:
            raise ValueError(f"start_after for this index holds {sorted(expected)}")
        for name, value in query.start_after.items():
            _check_key_string(name, value)
    for name, value in query.filter_equals:
        if name in (partition_attr, sort_attr):
            raise ValueError(f"{name} is a key of the queried index: use the key condition, not a filter")
        check_value(name, value)


def op_key(op: WriteOp) -> Key:
    return {"pk": op.item["pk"], "sk": op.item["sk"]} if isinstance(op, Put) else op.key


def item_size(item: Item) -> int:
    """DynamoDB's item size: attribute names plus values (UTF-8 strings, about half a byte a digit)."""
    size = 0
    for name, value in item.items():
        size += len(name) if name.isascii() else len(name.encode())
        if type(value) is str:
            size += len(value) if value.isascii() else len(value.encode())  # ASCII: one byte a character
        else:
            size += _value_size(value)
    return size


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if value is None or isinstance(value, bool):
        return 1
    return (len(str(abs(value))) + 1) // 2 + 1


def _check_key_string(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is a key attribute: it must be a non-empty string, not {value!r}")
