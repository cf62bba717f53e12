"""Routing's state in the single table: each agent's load, which agent each case counts against, and the
routing policy. A small repository over the `Table` port, so both adapters (and the contract tests) serve it.

Loads are kept by reconciling, not by adding up events: for a case we store the agent it is counted against
together with the case version that was read. Counting a case again from a newer version moves it from the
old holder to the new one in one transaction; a version we have already counted (a redelivered or late
event) changes nothing. So the counters stay right under at-least-once delivery in any order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from ..domain.case import Case
from ..domain.errors import DomainError
from ..ports.table import Condition, Item, Put, Query, Table, TransactionCancelled
from . import keys, routing_keys
from .store import UnitOfWork

ATTEMPTS = 8


@dataclass(frozen=True)
class AgentLoad:
    agent_id: str
    open_cases: int = 0
    last_assigned_at: datetime | None = None
    availability: str | None = None
    availability_since: datetime | None = None
    rev: int = 0

    @classmethod
    def from_item(cls, item: Item) -> AgentLoad:
        return cls(agent_id=item["sk"], open_cases=int(item.get("open_cases", 0)),
                   last_assigned_at=_time(item.get("last_assigned_at")), availability=item.get("availability"),
                   availability_since=_time(item.get("availability_since")), rev=int(item.get("rev", 0)))

    def item(self) -> Item:
        return {**routing_keys.agent_load(self.agent_id), "entity": "agent_load", "open_cases": self.open_cases,
                "last_assigned_at": _iso(self.last_assigned_at), "availability": self.availability,
                "availability_since": _iso(self.availability_since), "rev": self.rev + 1}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _expect(item: Item | None) -> Condition:
    return Condition.absent() if item is None else Condition.attribute_is(rev=int(item.get("rev", 0)))


class RoutingStore:
    def __init__(self, table: Table, now: Callable[[], datetime]) -> None:
        self.table = table
        self._now = now

    def _epoch(self) -> int:
        return int(self._now().timestamp())

    def _get(self, key: dict[str, str]) -> Item | None:
        return self.table.get(key, now=self._epoch())

    # --- the pool --------------------------------------------------------------------------------------
    def pool(self) -> tuple[dict[str, AgentLoad], dict[str | None, str]]:
        """Every agent's load and each team's last round-robin pick: one Query of the pool partition (paged
        past 1 MB)."""
        loads: dict[str, AgentLoad] = {}
        turns: dict[str | None, str] = {}
        start = None
        while True:
            page = self.table.query(Query(partition=routing_keys.AGENT_POOL, start_after=start), now=self._epoch())
            for item in page.items:
                if item.get("entity") == "round_robin":
                    turns[item.get("team_id")] = item["agent_id"]
                else:
                    load = AgentLoad.from_item(item)
                    loads[load.agent_id] = load
            if page.last_key is None:
                return loads, turns
            start = page.last_key

    def note_turn(self, team_id: str | None, agent_id: str) -> None:
        self.table.put({**routing_keys.round_robin(team_id), "entity": "round_robin", "team_id": team_id,
                        "agent_id": agent_id})

    def agent_records(self) -> list[str]:
        """Every agent as stored (JSON), from the agent listing: one partition, paged."""
        records: list[str] = []
        start = None
        while True:
            page = self.table.query(Query(partition=keys.AGENT_LIST, index="gsi1", start_after=start),
                                    now=self._epoch())
            records += [item["data"] for item in page.items]
            if page.last_key is None:
                return records
            start = page.last_key

    def load(self, agent_id: str) -> AgentLoad | None:
        item = self._get(routing_keys.agent_load(agent_id))
        return AgentLoad.from_item(item) if item else None

    def holder(self, case_id: str) -> tuple[str | None, int] | None:
        """(agent the case counts against, case version counted), or None if never counted."""
        item = self._get(routing_keys.case_holder(case_id))
        return (item.get("agent_id"), int(item["case_version"])) if item else None

    def count_case(self, case: Case) -> bool:
        """Count the case against its assignee while it is active, against nobody otherwise.

        Returns True if this moved a count. A case version at or below the one already counted changes
        nothing, so redelivery and reordering are harmless.
        """
        holder = case.assignee_id if case.is_active else None
        for _ in range(ATTEMPTS):
            ref = self._get(routing_keys.case_holder(case.id))
            if ref is not None and int(ref["case_version"]) >= case.version:
                return False
            if ref is None and holder is None:
                return False  # never counted and nobody to count it against: nothing to move, nothing to store
            previous = ref.get("agent_id") if ref else None
            ops: list = [Put({**routing_keys.case_holder(case.id), "entity": "case_holder", "agent_id": holder,
                              "case_version": case.version},
                             Condition.absent() if ref is None
                             else Condition.attribute_is(case_version=int(ref["case_version"])))]
            if previous != holder:
                if previous is not None:
                    ops.append(self._moved(previous, -1, None))
                if holder is not None:
                    ops.append(self._moved(holder, +1, case.updated_at))
            try:
                self.table.transact(ops)
            except TransactionCancelled:
                continue  # another consumer counted this case or moved one of the loads: read again
            return previous != holder
        raise DomainError(f"could not count case {case.id}: too many concurrent changes")

    def _moved(self, agent_id: str, delta: int, assigned_at: datetime | None) -> Put:
        item = self._get(routing_keys.agent_load(agent_id))
        load = AgentLoad.from_item(item) if item else AgentLoad(agent_id=agent_id)
        last = load.last_assigned_at
        if assigned_at is not None and (last is None or assigned_at > last):
            last = assigned_at
        updated = AgentLoad(agent_id, max(0, load.open_cases + delta), last, load.availability,
                            load.availability_since, load.rev)
        return Put(updated.item(), _expect(item))

    def note_availability(self, agent_id: str, availability: str, since: datetime) -> bool:
        """Remember when the agent's availability last changed; an older change than the one kept is ignored."""
        for _ in range(ATTEMPTS):
            item = self._get(routing_keys.agent_load(agent_id))
            load = AgentLoad.from_item(item) if item else AgentLoad(agent_id=agent_id)
            if load.availability_since is not None and load.availability_since > since:
                return False
            if load.availability == availability and load.availability_since == since:
                return False
            updated = AgentLoad(agent_id, load.open_cases, load.last_assigned_at, availability, since, load.rev)
            try:
                self.table.transact([Put(updated.item(), _expect(item))])
            except TransactionCancelled:
                continue
            return True
        raise DomainError(f"could not record the availability of agent {agent_id}: too many concurrent changes")

    # --- the policy ------------------------------------------------------------------------------------
    def policy(self, model: type[BaseModel]) -> tuple[BaseModel, int] | None:
        item = self._get(routing_keys.routing_policy())
        return (model.model_validate_json(item["data"]), int(item["version"])) if item else None

    @staticmethod
    def stage_policy(uow: UnitOfWork, policy: BaseModel, *, version: int, expected: int | None,
                     error: Callable[[], DomainError]) -> None:
        """Write the policy within a unit of work, if the stored one still has version `expected`."""
        condition = Condition.absent() if expected is None else Condition.attribute_is(version=expected)
        item = {**routing_keys.routing_policy(), "entity": "routing_policy", "data": policy.model_dump_json(),
                "version": version}
        uow._add(Put(item, condition), error)
