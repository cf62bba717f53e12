"""The table port: a DynamoDB-shaped item store.

Items are flat dicts of scalars (str, int, bool, None) — structured payloads travel as JSON strings in a
`data` attribute, so both adapters store exactly the same thing. Every item has `pk` and `sk`; it may set
the keys of the global secondary indexes (`gsi1pk`/`gsi1sk` ... ) and `expires_at` (epoch seconds).

Semantics both adapters guarantee, proved by `tests/contract/test_table_contract.py`:
- `get` and `query` never return an item whose `expires_at` has passed (DynamoDB deletes expired items
  lazily, so the AWS adapter also filters them out).
- `query` pages in key order; `limit` counts items examined before `filter_equals` is applied, as
  DynamoDB's Limit does; `last_key` resumes after the last examined item.
- An expired item that is still stored counts as examined, exactly like an item `filter_equals` drops:
  it uses up `limit` and is left out of the page. So a page may hold fewer items than `limit` (even none)
  while `last_key` says more may follow. `last_key` None means the query is exhausted; DynamoDB may
  also return a `last_key` when Limit is reached exactly, so the last page of a walk may be empty.
- Conditions, `increment` and `scan` see every stored item, expired or not, as DynamoDB does until its
  TTL sweep (or the embedded adapter's `purge_expired`) removes it.
- Values compare with their type: `True` is not `1`. `attribute_is(x=None)` and a `filter_equals` on
  None hold when `x` is missing or null.
- `transact` applies all operations or none. A failed condition raises `TransactionCancelled` naming the
  operation(s) whose condition failed, and nothing is written. More than MAX_TRANSACTION_ITEMS operations,
  or two on one key, raise ValueError (DynamoDB rejects both).
- `Increment` sets each of its `defaults` the item lacks (DynamoDB's `if_not_exists`), so a new item gets
  all of them; a delta starts from its attribute's default, or 0.
- `increment` is atomic and returns the new value.
- `scan` exists for offline maintenance (audit verification, exports); request paths never call it.
- Both adapters refuse what DynamoDB refuses, with the same ValueError/TypeError
  (`caseline.adapters.table_rules`): keys and index keys are non-empty strings, `expires_at` is an int,
  values are str/int/bool/None, an item is under 400 KB.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Item = dict[str, Any]
Key = dict[str, str]

INDEXES: dict[str | None, tuple[str, str]] = {
    None: ("pk", "sk"),
    "gsi1": ("gsi1pk", "gsi1sk"),
    "gsi2": ("gsi2pk", "gsi2sk"),
    "gsi3": ("gsi3pk", "gsi3sk"),
    "gsi4": ("gsi4pk", "gsi4sk"),
    "gsi5": ("gsi5pk", "gsi5sk"),
}
TTL_ATTRIBUTE = "expires_at"
MAX_TRANSACTION_ITEMS = 100


class SortOp(StrEnum):
    EQ = "="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    BETWEEN = "between"
    BEGINS_WITH = "begins_with"


@dataclass(frozen=True)
class SortCondition:
    op: SortOp
    value: str
    upper: str | None = None  # only for BETWEEN

    @classmethod
    def begins_with(cls, prefix: str) -> SortCondition:
        return cls(SortOp.BEGINS_WITH, prefix)

    @classmethod
    def between(cls, low: str, high: str) -> SortCondition:
        return cls(SortOp.BETWEEN, low, high)

    def matches(self, candidate: str) -> bool:
        match self.op:
            case SortOp.EQ:
                return candidate == self.value
            case SortOp.LT:
                return candidate < self.value
            case SortOp.LE:
                return candidate <= self.value
            case SortOp.GT:
                return candidate > self.value
            case SortOp.GE:
                return candidate >= self.value
            case SortOp.BETWEEN:
                assert self.upper is not None
                return self.value <= candidate <= self.upper
            case SortOp.BEGINS_WITH:
                return candidate.startswith(self.value)


@dataclass(frozen=True)
class Condition:
    """A write condition on the current item. `exists` None means "don't care"."""

    exists: bool | None = None
    equals: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def absent(cls) -> Condition:
        return cls(exists=False)

    @classmethod
    def present(cls) -> Condition:
        return cls(exists=True)

    @classmethod
    def attribute_is(cls, **values: Any) -> Condition:
        return cls(exists=True, equals=tuple(values.items()))

    def holds_for(self, item: Item | None) -> bool:
        if self.exists is True and item is None:
            return False
        if self.exists is False and item is not None:
            return False
        return all(item is not None and _same_value(item.get(name), value) for name, value in self.equals)


def _same_value(stored: Any, expected: Any) -> bool:
    """Equality as DynamoDB sees it: BOOL and N are different types, so True does not equal 1."""
    return isinstance(stored, bool) == isinstance(expected, bool) and stored == expected


@dataclass(frozen=True)
class Put:
    item: Item
    condition: Condition | None = None


@dataclass(frozen=True)
class Delete:
    key: Key
    condition: Condition | None = None


@dataclass(frozen=True)
class Check:
    key: Key
    condition: Condition


@dataclass(frozen=True)
class Increment:
    """Add to numeric attributes, creating the item (with `defaults`) when it does not exist."""

    key: Key
    deltas: dict[str, int]
    defaults: Item = field(default_factory=dict)


WriteOp = Put | Delete | Check | Increment


@dataclass(frozen=True)
class Query:
    partition: str
    index: str | None = None
    sort: SortCondition | None = None
    forward: bool = True
    limit: int | None = None
    start_after: Key | None = None
    filter_equals: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.index not in INDEXES:
            raise ValueError(f"unknown index {self.index!r}")
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be positive")


@dataclass(frozen=True)
class Page:
    items: list[Item]
    last_key: Key | None  # None when there is nothing more


class TransactionCancelled(Exception):
    """A condition failed; nothing was written. `failed` holds the indexes of the failing operations."""

    def __init__(self, failed: Sequence[int]) -> None:
        super().__init__(f"transaction cancelled: condition failed on operation(s) {list(failed)}")
        self.failed = list(failed)


class ConditionFailed(TransactionCancelled):
    """A single conditional put/delete failed."""


class Table(ABC):
    """One DynamoDB-style table. See the module docstring for the contract."""

    @abstractmethod
    def get(self, key: Key, *, now: int) -> Item | None: ...

    @abstractmethod
    def query(self, query: Query, *, now: int) -> Page: ...

    @abstractmethod
    def transact(self, ops: Sequence[WriteOp]) -> None: ...

    @abstractmethod
    def increment(self, key: Key, attribute: str, by: int = 1) -> int: ...

    @abstractmethod
    def scan(self) -> Iterator[Item]: ...

    def put(self, item: Item, condition: Condition | None = None) -> None:
        try:
            self.transact([Put(item, condition)])
        except TransactionCancelled as exc:
            raise ConditionFailed(exc.failed) from exc

    def delete(self, key: Key, condition: Condition | None = None) -> None:
        try:
            self.transact([Delete(key, condition)])
        except TransactionCancelled as exc:
            raise ConditionFailed(exc.failed) from exc


def key_of(item: Item) -> Key:
    return {"pk": item["pk"], "sk": item["sk"]}


def page_key(item: Item, index: str | None) -> Key:
    """The key a query on `index` resumes after: the table key plus the index's own key attributes."""
    key = key_of(item)
    if index is not None:
        ipk, isk = INDEXES[index]
        key[ipk] = item[ipk]
        key[isk] = item[isk]
    return key


def is_expired(item: Item, now: int) -> bool:
    expires = item.get(TTL_ATTRIBUTE)
    return expires is not None and int(expires) <= now
