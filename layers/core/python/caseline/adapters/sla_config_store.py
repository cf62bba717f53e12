"""SLA policies and team calendars over the Table port: one item each, with a version (the API's ETag).

Writes join the caller's unit of work, so a change and its audit record commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar, cast

from pydantic import BaseModel

from ..domain.errors import DomainError
from ..ports.table import Condition, Item, Put, Query
from . import sla_keys as keys
from .store import Store, UnitOfWork

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 100


@lru_cache(maxsize=256)
def _parsed(model: type[BaseModel], data: str) -> BaseModel:
    """Stored policies and calendars change rarely and are read on every SLA check. The models are frozen,
    so one parsed copy can be shared: a calendar keeps its computed working spans, and its holiday country is
    not validated again on every read."""
    return model.model_validate_json(data)


def _parse(model: type[M], data: str) -> M:
    return cast(M, _parsed(model, data))


def _condition(expected_version: int | None) -> Condition:
    return Condition.absent() if expected_version is None else Condition.attribute_is(version=expected_version)


class SlaConfigRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _now(self) -> int:
        return int(self.store._now().timestamp())

    def get_policy(self, policy_id: str, model: type[M]) -> tuple[M, int] | None:
        item = self.store.table.get(keys.sla_policy(policy_id), now=self._now())
        return None if item is None else (_parse(model, item["data"]), int(item["version"]))

    def list_policies(self, model: type[M]) -> list[tuple[M, int]]:
        page = self.store.table.query(Query(keys.SLA_POLICIES, index="gsi1", limit=PAGE_SIZE), now=self._now())
        return [(model.model_validate_json(item["data"]), int(item["version"])) for item in page.items]

    def put_policy(self, uow: UnitOfWork, policy_id: str, policy: BaseModel, *, version: int,
                   expected_version: int | None, error: Callable[[], DomainError]) -> None:
        item: Item = {**keys.sla_policy(policy_id), "entity": keys.POLICY_ENTITY, "gsi1pk": keys.SLA_POLICIES,
                      "gsi1sk": policy_id, "data": policy.model_dump_json(), "version": version}
        uow._add(Put(item, _condition(expected_version)), error)

    def get_calendar(self, team_id: str, model: type[M]) -> tuple[M, int] | None:
        item = self.store.table.get(keys.team_calendar(team_id), now=self._now())
        return None if item is None else (_parse(model, item["data"]), int(item["version"]))

    def put_calendar(self, uow: UnitOfWork, team_id: str, calendar: BaseModel, *, version: int,
                     expected_version: int | None, error: Callable[[], DomainError]) -> None:
        item: Item = {**keys.team_calendar(team_id), "entity": keys.CALENDAR_ENTITY, "data": calendar.model_dump_json(),
                      "version": version}
        uow._add(Put(item, _condition(expected_version)), error)
