"""Stored rule sets over the Table port: the same items in DynamoDB and SQLite.

Each rule is an item with its own version (the API's ETag); the order of the set is one more item with a
version of its own, so a reorder and an edit of one rule never overwrite each other. Writes join the
caller's unit of work, so a rule change and its audit record commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from pydantic import BaseModel

from ..domain.errors import DomainError
from ..ports.table import Condition, Item, Key, Put, Query
from . import keys as store_keys
from . import rule_keys as keys
from .store import Store, UnitOfWork

R = TypeVar("R", bound=BaseModel)
O = TypeVar("O", bound=BaseModel)  # noqa: E741
PAGE_SIZE = 200


@dataclass(frozen=True)
class StoredSet(Generic[R, O]):
    order: O | None  # None: no rule set was ever stored
    order_version: int
    rules: dict[str, R]


@lru_cache(maxsize=4096)
def _parsed(model: type[BaseModel], data: str) -> BaseModel:
    """Rules are read on every event and rarely change: an unchanged item is parsed once. Never mutate the result."""
    return model.model_validate_json(data)


def _condition(expected_version: int | None) -> Condition:
    return Condition.absent() if expected_version is None else Condition.attribute_is(version=expected_version)


class RuleRepository:
    def __init__(self, store: Store, set_name: str = keys.DEFAULT_SET) -> None:
        self.store = store
        self.set_name = set_name

    def load(self, rule_model: type[R], order_model: type[O]) -> StoredSet[R, O]:
        """The order and every rule: one Query (a page per 200 rules)."""
        order: O | None = None
        version = 0
        rules: dict[str, R] = {}
        start: Key | None = None
        now = int(self.store._now().timestamp())
        while True:
            page = self.store.table.query(
                Query(keys.rule_set_partition(self.set_name), limit=PAGE_SIZE, start_after=start), now=now)
            for item in page.items:
                if item["sk"] == keys.ORDER_SK:
                    order = _parsed(order_model, item["data"])  # type: ignore[assignment]
                    version = int(item["version"])
                elif item["sk"].startswith(keys.RULE_PREFIX):
                    rules[item["sk"][len(keys.RULE_PREFIX):]] = _parsed(rule_model, item["data"])  # type: ignore[assignment]
            if page.last_key is None:
                return StoredSet(order, version, rules)
            start = page.last_key

    def get(self, rule_id: str, rule_model: type[R]) -> R | None:
        item = self.store.table.get(keys.rule(rule_id, self.set_name), now=int(self.store._now().timestamp()))
        return rule_model.model_validate_json(item["data"]) if item else None

    def put_rule(self, uow: UnitOfWork, rule_id: str, stored: BaseModel, *, version: int,
                 expected_version: int | None, error: Callable[[], DomainError]) -> None:
        """Write a rule (`expected_version` None: it must be new)."""
        item: Item = {**keys.rule(rule_id, self.set_name), "entity": "rule", "data": stored.model_dump_json(),
                      "version": version}
        uow._add(Put(item, _condition(expected_version)), error)

    def put_order(self, uow: UnitOfWork, order: BaseModel, *, version: int, expected_version: int | None,
                  error: Callable[[], DomainError]) -> None:
        """Write the order (`expected_version` None: no order may exist yet)."""
        item: Item = {**keys.rule_order(self.set_name), "entity": "rule_order", "data": order.model_dump_json(),
                      "version": version}
        uow._add(Put(item, _condition(expected_version)), error)

    def mark_in(self, uow: UnitOfWork, marker: str, event_id: str, *, ttl_seconds: int,
                error: Callable[[], DomainError]) -> None:
        """A consumer marker (`store.mark_consumed`'s item) written with the unit of work; present → `error`."""
        item: Item = {**store_keys.consumer_marker(marker, event_id), "entity": "consumer_marker",
                      "expires_at": int(self.store._now().timestamp()) + ttl_seconds}
        uow._add(Put(item, Condition.absent()), error)
