"""The store: our aggregates as items in the single table, over any `Table` adapter.

Reads are named access patterns (docs/data-model.md), each one GetItem or one Query. Writes are collected
in a `UnitOfWork` and committed as one TransactWriteItems, so a state change, its timeline entries, its
audit record and its outbox events are stored together or not at all.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ..domain.agents import Agent, Team
from ..domain.audit import AuditRecord
from ..domain.case import Case
from ..domain.customer import Customer
from ..domain.errors import DomainError
from ..domain.events import EventEnvelope
from ..domain.interaction import Interaction
from ..domain.timeline import TimelineEntry
from ..ports.table import (
    INDEXES,
    Check,
    Condition,
    Delete,
    Increment,
    Item,
    Key,
    Page,
    Put,
    Query,
    SortCondition,
    SortOp,
    Table,
    TransactionCancelled,
    WriteOp,
    page_key,
)
from . import keys

T = TypeVar("T", bound=BaseModel)
CASE_NUMBER_START = 10_000
OPEN_REFS_SHOWN = 25
OPEN_REFS_READ_AHEAD = 3  # room for open-case refs in the customer 360's first read


class BadCursor(DomainError):
    """A pagination cursor that we did not hand out for this listing."""


@dataclass(frozen=True)
class Slice(Generic[T]):
    items: list[T]
    cursor: str | None


@dataclass(frozen=True)
class OpenCaseRef:
    case_id: str
    number: int
    subject: str
    status: str
    priority: str
    updated_at: str


@dataclass(frozen=True)
class CustomerOverview:
    customer: Customer
    counts: dict[str, int]
    open_cases: list[OpenCaseRef]
    timeline: Slice[TimelineEntry]


@dataclass
class _OverviewItems:
    """What the customer 360's reads of the customer partition found, in partition order."""

    customer: Customer | None = None
    counts: dict[str, int] = field(default_factory=dict)
    refs: list[OpenCaseRef] = field(default_factory=list)
    entries: list[Item] = field(default_factory=list)

    def take(self, items: list[Item]) -> None:
        for item in items:
            entity = item["entity"]
            if entity == "customer":
                self.customer = _data(item, Customer)
            elif entity == "customer_counters":
                self.counts = {k: int(v) for k, v in item.items() if k not in {"pk", "sk", "entity"}}
            elif entity == "open_case_ref":
                if len(self.refs) < OPEN_REFS_SHOWN:
                    self.refs.append(OpenCaseRef(**json.loads(item["data"])))
            elif entity == "timeline_entry":
                self.entries.append(item)


def _encode_cursor(key: Key | None) -> str | None:
    if key is None:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None, *, partition_attr: str, partition: str) -> Key | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("the cursor is not one this listing handed out") from exc
    if (
        not isinstance(key, dict)
        or key.get(partition_attr) != partition
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in key.items())
    ):
        raise BadCursor("the cursor is not one this listing handed out")
    return key


def _encode_positions(positions: dict[str, Any]) -> str:
    raw = json.dumps({"m": positions}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_positions(cursor: str | None, partitions: list[str]) -> dict[str, Any]:
    """Per-partition positions of a merged read; a cursor for other partitions is refused."""
    if not cursor:
        return {}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        positions = json.loads(base64.urlsafe_b64decode(padded.encode()))["m"]
    except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise BadCursor("the cursor is not one this listing handed out") from exc
    if not isinstance(positions, dict) or not set(positions) <= set(partitions):
        raise BadCursor("the cursor is not one this listing handed out")
    for partition, position in positions.items():
        valid_key = isinstance(position, dict) and position.get("pk") is not None and all(
            isinstance(v, str) for v in position.values())
        if position != "end" and not valid_key:
            raise BadCursor("the cursor is not one this listing handed out")
        if isinstance(position, dict) and partition not in position.values():
            raise BadCursor("the cursor is not one this listing handed out")
    return dict(positions)


def _data(item: Item, model: type[T]) -> T:
    return model.model_validate_json(item["data"])


def _item(key: Key, entity: str, model: BaseModel, **extra: Any) -> Item:
    return {**key, "entity": entity, "data": model.model_dump_json(), **extra}


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


def _queue_memberships(case: Case | None) -> list[tuple[str, str]]:
    """The counted queues a case is in: (counter scope, status)."""
    if case is None or case.merged_into is not None:
        return []
    status = case.status.value
    owner = f"AGENT#{case.assignee_id}" if case.assignee_id else f"UNASSIGNED#{case.team_id or keys.NO_OWNER}"
    return [(owner, status), (f"TEAM#{case.team_id or keys.NO_OWNER}", status), ("ALL", status)]


@dataclass(frozen=True)
class QueueRef:
    """One queue partition, named by what it holds rather than by its key."""

    kind: str  # team | assignee | unassigned | status | due
    owner: str | None = None
    status: str | None = None

    def locate(self) -> tuple[str, str]:
        match self.kind:
            case "team":
                return "gsi1", keys.team_queue(self.owner, self.status or "")
            case "assignee":
                return "gsi2", keys.assignee_queue(self.owner or "", self.status or "")
            case "unassigned":
                return "gsi2", keys.unassigned_queue(self.owner, self.status or "")
            case "status":
                return "gsi4", keys.status_queue(self.status or "")
            case "due":
                return "gsi5", keys.DUE_QUEUE
        raise ValueError(f"unknown queue kind {self.kind}")


@dataclass
class UnitOfWork:
    """Writes to commit together. `on_conflict[i]` turns a failed condition of op i into a domain error."""

    store: Store
    ops: list[WriteOp] = field(default_factory=list)
    on_conflict: dict[int, Callable[[], DomainError]] = field(default_factory=dict)
    increments: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    audit_heads: dict[tuple[str, str], int] = field(default_factory=dict)

    def _add(self, op: WriteOp, error: Callable[[], DomainError] | None = None) -> None:
        if error is not None:
            self.on_conflict[len(self.ops)] = error
        self.ops.append(op)

    def add(self, op: WriteOp) -> None:
        """A write prepared by another adapter (a staged timer's record, a rate count), committed with the rest."""
        self._add(op)

    # cases
    def put_case(
        self,
        case: Case,
        *,
        expected_version: int | None,
        error: Callable[[], DomainError],
        previous: Case | None = None,
    ) -> None:
        """Write a case (`expected_version` None: it must be new) and move the live queue counts with it."""
        condition = (
            Condition.absent() if expected_version is None else Condition.attribute_is(version=expected_version)
        )
        self._add(Put(self.store.case_item(case), condition), error)
        if expected_version is None:
            self._add(Put({**keys.case_number(case.number), "entity": "case_number", "case_id": case.id}))
        for scope, status in _queue_memberships(previous):
            self.adjust(keys.queue_counter(scope), status, -1)
        for scope, status in _queue_memberships(case):
            self.adjust(keys.queue_counter(scope), status, +1)

    def adjust(self, key: Key, attribute: str, delta: int) -> None:
        """Add to a counter attribute; all adjustments of one unit become one Increment per item."""
        deltas = self.increments.setdefault((key["pk"], key["sk"]), {})
        deltas[attribute] = deltas.get(attribute, 0) + delta

    def put_interaction(self, interaction: Interaction) -> None:
        key = keys.interaction(interaction.case_id, interaction.id)
        self._add(Put(_item(key, "interaction", interaction), Condition.absent()))

    def replace_interaction(self, interaction: Interaction, previous_data: str,
                            error: Callable[[], DomainError]) -> None:
        """Rewrite an interaction (its delivery state); `previous_data` is what `interaction_for_update` read."""
        key = keys.interaction(interaction.case_id, interaction.id)
        self._add(Put(_item(key, "interaction", interaction), Condition.attribute_is(data=previous_data)), error)

    def put_provider_message(self, provider: str, message_id: str, case_id: str, interaction_id: str) -> None:
        item = {**keys.provider_message(provider, message_id), "entity": "provider_message", "case_id": case_id,
                "interaction_id": interaction_id}
        self._add(Put(item))

    def track_open_case(self, case: Case) -> None:
        """Keep the customer's open-case refs in step with the case's status."""
        ref_key = keys.open_case_ref(case.requester_id, case.id)
        if case.is_active:
            ref = {
                "case_id": case.id,
                "number": case.number,
                "subject": case.subject,
                "status": case.status.value,
                "priority": case.priority.value,
                "updated_at": case.updated_at.isoformat(),
            }
            self._add(Put({**ref_key, "entity": "open_case_ref", "data": json.dumps(ref)}))
        else:
            self._add(Delete(ref_key))

    # customers
    def put_customer(
        self, customer: Customer, *, expected_version: int | None, error: Callable[[], DomainError]
    ) -> None:
        condition = (
            Condition.absent() if expected_version is None else Condition.attribute_is(version=expected_version)
        )
        item = _item(
            keys.customer(customer.id),
            "customer",
            customer,
            version=customer.version,
            gsi1pk=keys.CUSTOMER_LIST,
            gsi1sk=keys.listing_sort(customer.name, customer.id),
        )
        self._add(Put(item, condition), error)

    def count(self, customer_id: str, **deltas: int) -> None:
        """Add to the customer's counters (cases_total, interactions, timeline_entries)."""
        for name, delta in deltas.items():
            self.adjust(keys.customer_counters(customer_id), name, delta)

    def claim_identity(self, kind: str, value: str, customer_id: str, error: Callable[[], DomainError]) -> None:
        item = {**keys.identity(kind, value), "entity": "identity", "owner_id": customer_id}
        self._add(Put(item, Condition.absent()), error)

    def release_identity(self, kind: str, value: str, customer_id: str) -> None:
        self._add(Delete(keys.identity(kind, value), Condition.attribute_is(owner_id=customer_id)))

    def add_timeline_entry(self, entry: TimelineEntry) -> None:
        extra: dict[str, Any] = {
            "gsi1pk": keys.timeline_by_kind(entry.customer_id, entry.kind.value),
            "gsi1sk": entry.id,
        }
        if entry.channel is not None:
            extra["gsi2pk"] = keys.timeline_by_channel(entry.customer_id, entry.channel.value)
            extra["gsi2sk"] = entry.id
        key = keys.timeline_entry(entry.customer_id, entry.id)
        self._add(Put(_item(key, "timeline_entry", entry, **extra), Condition.absent()))

    def claim_external_event(
        self, source: str, external_id: str, entry: TimelineEntry, error: Callable[[], DomainError]
    ) -> None:
        item = {
            **keys.external_event(source, external_id),
            "entity": "external_event",
            "customer_id": entry.customer_id,
            "entry_id": entry.id,
        }
        self._add(Put(item, Condition.absent()), error)

    # staff
    def put_agent(self, agent: Agent, *, previous: Agent | None = None) -> None:
        condition = Condition.absent() if previous is None else Condition.attribute_is(data=previous.model_dump_json())
        item = _item(
            keys.agent(agent.id), "agent", agent,
            gsi1pk=keys.AGENT_LIST, gsi1sk=keys.listing_sort(agent.name, agent.id),
        )
        self._add(Put(item, condition))
        if previous is None:
            self._add(Put({**keys.identity("handle", agent.handle), "entity": "identity", "owner_id": agent.id},
                          Condition.absent()))

    def put_team(self, team: Team) -> None:
        item = _item(
            keys.team(team.id), "team", team,
            gsi1pk=keys.TEAM_LIST, gsi1sk=keys.listing_sort(team.name, team.id),
        )
        self._add(Put(item))

    def put_saved_view(self, agent_id: str, view_id: str, view: BaseModel) -> None:
        self._add(Put(_item(keys.saved_view(agent_id, view_id), "saved_view", view)))

    def delete_saved_view(self, agent_id: str, view_id: str) -> None:
        self._add(Delete(keys.saved_view(agent_id, view_id)))

    def put_merge(self, merge_id: str, record: BaseModel, *, expected_state: str | None,
                  error: Callable[[], DomainError]) -> None:
        condition = Condition.absent() if expected_state is None else Condition.attribute_is(state=expected_state)
        state = getattr(record, "state", "merged")
        self._add(Put(_item(keys.merge(merge_id), "merge", record, state=state), condition), error)

    # audit and events
    def append_audit(self, record: AuditRecord, error: Callable[[], DomainError]) -> None:
        """Add a record and move its chain's head. A second record for the same target in this unit
        moves the same head op forward, keeping the condition on the head as it was before the unit."""
        target = (record.target_type, record.target_id)
        head_key = keys.audit_head(*target)
        head = {**head_key, "entity": "audit_head", "seq": record.seq, "hash": record.hash}
        if target in self.audit_heads:
            index = self.audit_heads[target]
            self.ops[index] = Put(head, self.ops[index].condition)
        else:
            previous_seq = record.seq - 1
            condition = Condition.absent() if previous_seq == 0 else Condition.attribute_is(seq=previous_seq)
            self.audit_heads[target] = len(self.ops)
            self._add(Put(head, condition), error)
        rec_key = keys.audit_record(record.target_type, record.target_id, record.seq)
        self._add(Put(_item(rec_key, "audit", record), Condition.absent()))

    def pending_audit_head(self, target_type: str, target_id: str) -> tuple[int, str] | None:
        """The head this unit has already moved the chain to, if it has."""
        index = self.audit_heads.get((target_type, target_id))
        if index is None:
            return None
        item = self.ops[index].item
        return int(item["seq"]), item["hash"]

    def publish(self, event: EventEnvelope) -> None:
        ttl = _epoch(event.time) + self.store.outbox_ttl_seconds
        item = {
            **keys.outbox(event.id),
            "entity": "outbox",
            "event_type": event.type,
            "data": event.model_dump_json(),
            "expires_at": ttl,
        }
        self._add(Put(item, Condition.absent()))

    def commit(self) -> None:
        for (pk, sk), deltas in self.increments.items():
            entity = "customer_counters" if sk == keys.COUNTERS_SK else "queue_counter"
            # Zero deltas still create a customer's counters item, so a new customer shows 0s, not nothing.
            changed = deltas if entity == "customer_counters" else {n: d for n, d in deltas.items() if d}
            if changed:
                self._add(Increment({"pk": pk, "sk": sk}, changed, {"entity": entity}))
        self.increments = {}
        if not self.ops:
            return
        try:
            self.store.table.transact(self.ops)
        except TransactionCancelled as exc:
            for index in exc.failed:
                if index in self.on_conflict:
                    raise self.on_conflict[index]() from exc
            raise


class Store:
    """Named access patterns over the table. Nobody else knows what a key looks like."""

    def __init__(self, table: Table, *, clock_now: Callable[[], datetime], outbox_ttl_days: int = 7) -> None:
        self.table = table
        self._now = clock_now
        self.outbox_ttl_seconds = outbox_ttl_days * 86_400

    def begin(self) -> UnitOfWork:
        return UnitOfWork(self)

    def _epoch_now(self) -> int:
        return _epoch(self._now())

    def _get(self, key: Key) -> Item | None:
        return self.table.get(key, now=self._epoch_now())

    def _query(self, query: Query) -> Page:
        return self.table.query(query, now=self._epoch_now())

    def _page(self, model: type[T], query: Query) -> Slice[T]:
        page = self._query(query)
        return Slice([_data(i, model) for i in page.items], _encode_cursor(page.last_key))

    def _cursor(self, cursor: str | None, index: str | None, partition: str) -> Key | None:
        return _decode_cursor(cursor, partition_attr=INDEXES[index][0], partition=partition)

    # --- case items -------------------------------------------------------------------------------------
    def case_item(self, case: Case) -> Item:
        """The case with its queue index keys. A merged case is in no queue: it carries no index keys."""
        item = _item(keys.case(case.id), "case", case, version=case.version)
        if case.merged_into is not None:
            return item
        queue_sk = keys.queue_sort(case.priority.rank, case.due_at, case.id)
        status = case.status.value
        item.update(
            gsi1pk=keys.team_queue(case.team_id, status),
            gsi1sk=queue_sk,
            gsi2pk=keys.assignee_queue(case.assignee_id, status) if case.assignee_id
            else keys.unassigned_queue(case.team_id, status),
            gsi2sk=queue_sk,
            gsi3pk=keys.requester_queue(case.requester_id),
            gsi3sk=queue_sk,
            gsi4pk=keys.status_queue(status),
            gsi4sk=queue_sk,
        )
        if case.is_active and case.due_at is not None:
            item.update(gsi5pk=keys.DUE_QUEUE, gsi5sk=keys.due_sort(case.due_at, case.priority.rank, case.id))
        return item

    def next_case_number(self) -> int:
        return CASE_NUMBER_START + self.table.increment(keys.counter("case_number"), "value")

    # --- case reads -------------------------------------------------------------------------------------
    def get_case(self, case_id: str) -> Case | None:
        item = self._get(keys.case(case_id))
        return _data(item, Case) if item else None

    def case_id_for_number(self, number: int) -> str | None:
        item = self._get(keys.case_number(number))
        return item["case_id"] if item else None

    def case_with_interactions(self, case_id: str, *, limit: int) -> tuple[Case | None, Slice[Interaction]]:
        """The case and its first interactions in one Query: the case item sorts before them (CASE < M#).

        Later pages go through `interactions_of`, which also reads the cases merged into this one.
        """
        page = self._query(Query(partition=keys.case_partition(case_id), limit=limit + 1))
        case: Case | None = None
        interactions: list[Interaction] = []
        last: Item | None = None
        for item in page.items:
            if item["entity"] == "case":
                case = _data(item, Case)
            elif item["entity"] == "interaction":
                interactions.append(_data(item, Interaction))
                last = item
        if case is None:
            return None, Slice([], None)
        cursor = None
        if page.last_key is not None and last is not None:
            cursor = _encode_positions({keys.case_partition(case_id): page_key(last, None)})
        return case, Slice(interactions, cursor)

    def get_interaction(self, case_id: str, interaction_id: str) -> Interaction | None:
        item = self._get(keys.interaction(case_id, interaction_id))
        return _data(item, Interaction) if item else None

    def interaction_for_update(self, case_id: str, interaction_id: str) -> tuple[Interaction, str] | None:
        """The interaction and its stored form, which `replace_interaction` expects to be unchanged."""
        item = self._get(keys.interaction(case_id, interaction_id))
        return (_data(item, Interaction), item["data"]) if item else None

    def provider_message(self, provider: str, message_id: str) -> tuple[str, str] | None:
        """(case id, interaction id) of the message a provider knows as `message_id`."""
        item = self._get(keys.provider_message(provider, message_id))
        return (item["case_id"], item["interaction_id"]) if item else None

    def queue(self, index: str, partition: str, *, limit: int, cursor: str | None) -> Slice[Case]:
        query = Query(
            partition=partition, index=index, limit=limit, start_after=self._cursor(cursor, index, partition)
        )
        return self._page(Case, query)

    def team_queue(self, team_id: str | None, status: str, *, limit: int, cursor: str | None) -> Slice[Case]:
        return self.queue("gsi1", keys.team_queue(team_id, status), limit=limit, cursor=cursor)

    def assignee_queue(
        self, agent_id: str | None, status: str, *, limit: int, cursor: str | None
    ) -> Slice[Case]:
        partition = keys.assignee_queue(agent_id, status) if agent_id else keys.unassigned_queue(None, status)
        return self.queue("gsi2", partition, limit=limit, cursor=cursor)

    def requester_cases(self, customer_id: str, *, limit: int, cursor: str | None) -> Slice[Case]:
        return self.queue("gsi3", keys.requester_queue(customer_id), limit=limit, cursor=cursor)

    def merged_queue(
        self, refs: list[QueueRef], *, limit: int, cursor: str | None, due_before: datetime | None = None
    ) -> Slice[Case]:
        """Several queue partitions read side by side and merged in index order (the views).

        The cursor records, per partition, the key of the last item handed out from it, so each page
        resumes every partition where the previous page stopped taking from it. Cost: one Query per
        partition per page, whatever the queue sizes.
        """
        located = [ref.locate() for ref in refs]
        positions = _decode_positions(cursor, [partition for _, partition in located])
        candidates: list[tuple[str, str, str, Item]] = []  # (sort key, partition, index, item)
        exhausted: set[str] = set()
        for index, partition in located:
            start = positions.get(partition)
            if start == "end":
                continue
            sort = SortCondition(SortOp.LE, keys.due_bound(due_before)) if due_before and index == "gsi5" else None
            page = self._query(Query(partition=partition, index=index, sort=sort, limit=limit,
                                     start_after=start if isinstance(start, dict) else None))
            sort_attr = INDEXES[index][1]
            candidates += [(item[sort_attr], partition, index, item) for item in page.items]
            if page.last_key is None:
                exhausted.add(partition)
        candidates.sort(key=lambda c: (c[0], c[1]))
        taken, seen = [], set()
        for _, partition, index, item in candidates[:limit]:
            positions[partition] = page_key(item, index)
            if item["pk"] not in seen:  # a case can sit in two of the partitions a view reads
                seen.add(item["pk"])
                taken.append(item)
        still_queued = {c[1] for c in candidates[limit:]}
        for partition in exhausted - still_queued:
            positions[partition] = "end"
        more = any(positions.get(p) != "end" for _, p in located)
        return Slice([_data(item, Case) for item in taken], _encode_positions(positions) if more else None)

    def queue_counts(self, scope: str) -> dict[str, int]:
        item = self._get(keys.queue_counter(scope))
        if item is None:
            return {}
        return {k: int(v) for k, v in item.items() if k not in {"pk", "sk", "entity"}}

    def saved_views(self, agent_id: str, model: type[T]) -> list[T]:
        partition = keys.agent_partition(agent_id)
        page = self._query(Query(partition=partition, sort=SortCondition.begins_with(keys.SAVED_VIEW_PREFIX),
                                 limit=200))
        return [_data(i, model) for i in page.items]

    def get_merge(self, merge_id: str, model: type[T]) -> T | None:
        item = self._get(keys.merge(merge_id))
        return _data(item, model) if item else None

    def interactions_of(self, case_ids: list[str], *, limit: int, cursor: str | None) -> Slice[Interaction]:
        """Interactions of several cases (a survivor and the cases merged into it), oldest first."""
        partitions = [keys.case_partition(c) for c in case_ids]
        positions = _decode_positions(cursor, partitions)
        candidates: list[Item] = []
        exhausted: set[str] = set()
        for partition in partitions:
            start = positions.get(partition)
            if start == "end":
                continue
            page = self._query(Query(partition=partition, sort=SortCondition.begins_with(keys.INTERACTION_PREFIX),
                                     limit=limit, start_after=start if isinstance(start, dict) else None))
            candidates += page.items
            if page.last_key is None:
                exhausted.add(partition)
        candidates.sort(key=lambda item: item["sk"])
        taken = candidates[:limit]
        for item in taken:
            positions[item["pk"]] = page_key(item, None)
        for partition in exhausted - {c["pk"] for c in candidates[limit:]}:
            positions[partition] = "end"
        more = any(positions.get(p) != "end" for p in partitions)
        return Slice([_data(i, Interaction) for i in taken], _encode_positions(positions) if more else None)

    # --- customers --------------------------------------------------------------------------------------
    def get_customer(self, customer_id: str) -> Customer | None:
        item = self._get(keys.customer(customer_id))
        return _data(item, Customer) if item else None

    def customer_for_identity(self, kind: str, value: str) -> str | None:
        item = self._get(keys.identity(kind, value))
        return item["owner_id"] if item else None

    def list_customers(self, *, limit: int, cursor: str | None) -> Slice[Customer]:
        partition = keys.CUSTOMER_LIST
        query = Query(partition=partition, index="gsi1", limit=limit,
                      start_after=self._cursor(cursor, "gsi1", partition))
        return self._page(Customer, query)

    def customer_overview(self, customer_id: str, *, page_size: int) -> CustomerOverview | None:
        """Customer 360: profile, counters, open-case refs and the newest timeline page.

        The partition sorts S#PROFILE > S#COUNTS > R#<case> > E#<entry>, so reading it backwards yields
        them in that order. The first Query leaves room for OPEN_REFS_READ_AHEAD refs — most customers
        have none or one open case — so nothing read is thrown away and the cost does not grow with the
        timeline. A customer with more open cases costs a second Query that reads on past the refs, and
        one with so many that the second read ends among them a third (the timeline page itself).
        """
        partition = keys.customer_partition(customer_id)
        below_profile = SortCondition(SortOp.LE, keys.PROFILE_SK)
        page = self._query(Query(partition=partition, forward=False, sort=below_profile,
                                 limit=2 + OPEN_REFS_READ_AHEAD + page_size))
        found = _OverviewItems()
        found.take(page.items)
        if found.customer is None:
            return None
        if not found.entries and page.last_key is not None:  # still among the open-case refs: read on
            page = self._query(Query(partition=partition, forward=False, sort=below_profile,
                                     limit=OPEN_REFS_SHOWN + page_size, start_after=page.last_key))
            found.take(page.items)
        entries = found.entries
        if len(entries) > page_size:
            timeline = Slice([_data(i, TimelineEntry) for i in entries[:page_size]],
                             _encode_cursor(page_key(entries[page_size - 1], None)))
        elif page.last_key is not None and len(entries) < page_size:
            # Open-case refs took the room of timeline entries: read the rest of the page from the timeline.
            start = page_key(entries[-1], None) if entries else None
            rest = self.timeline(customer_id, limit=page_size - len(entries),
                                 cursor=_encode_cursor(start) if start else None)
            timeline = Slice([_data(i, TimelineEntry) for i in entries] + rest.items, rest.cursor)
        else:
            cursor = _encode_cursor(page_key(entries[-1], None)) if page.last_key and entries else None
            timeline = Slice([_data(i, TimelineEntry) for i in entries], cursor)
        return CustomerOverview(found.customer, found.counts, found.refs, timeline)

    def timeline(
        self,
        customer_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        kind: str | None = None,
        channel: str | None = None,
    ) -> Slice[TimelineEntry]:
        """Newest first. A kind or channel filter reads its own index; both together filter the kind index."""
        filters: tuple[tuple[str, Any], ...] = ()
        if kind is not None:
            index, partition = "gsi1", keys.timeline_by_kind(customer_id, kind)
            sort = None
            if channel is not None:
                filters = (("gsi2pk", keys.timeline_by_channel(customer_id, channel)),)
        elif channel is not None:
            index, partition, sort = "gsi2", keys.timeline_by_channel(customer_id, channel), None
        else:
            index, partition = None, keys.customer_partition(customer_id)
            sort = SortCondition.begins_with(keys.TIMELINE_PREFIX)
        start = self._cursor(cursor, index, partition)
        query = Query(partition=partition, index=index, sort=sort, forward=False, limit=limit,
                      start_after=start, filter_equals=filters)
        return self._page(TimelineEntry, query)

    def external_event_entry(self, source: str, external_id: str) -> tuple[str, str] | None:
        item = self._get(keys.external_event(source, external_id))
        return (item["customer_id"], item["entry_id"]) if item else None

    def get_timeline_entry(self, customer_id: str, entry_id: str) -> TimelineEntry | None:
        item = self._get(keys.timeline_entry(customer_id, entry_id))
        return _data(item, TimelineEntry) if item else None

    # --- staff ------------------------------------------------------------------------------------------
    def get_agent(self, agent_id: str) -> Agent | None:
        item = self._get(keys.agent(agent_id))
        return _data(item, Agent) if item else None

    def agent_for_handle(self, handle: str) -> str | None:
        item = self._get(keys.identity("handle", handle))
        return item["owner_id"] if item else None

    def list_agents(self, *, limit: int, cursor: str | None) -> Slice[Agent]:
        query = Query(partition=keys.AGENT_LIST, index="gsi1", limit=limit,
                      start_after=self._cursor(cursor, "gsi1", keys.AGENT_LIST))
        return self._page(Agent, query)

    def get_team(self, team_id: str) -> Team | None:
        item = self._get(keys.team(team_id))
        return _data(item, Team) if item else None

    def list_teams(self, *, limit: int, cursor: str | None) -> Slice[Team]:
        query = Query(partition=keys.TEAM_LIST, index="gsi1", limit=limit,
                      start_after=self._cursor(cursor, "gsi1", keys.TEAM_LIST))
        return self._page(Team, query)

    # --- audit ------------------------------------------------------------------------------------------
    def audit_head(self, target_type: str, target_id: str) -> tuple[int, str]:
        item = self._get(keys.audit_head(target_type, target_id))
        return (int(item["seq"]), item["hash"]) if item else (0, "")

    def audit_trail(
        self, target_type: str, target_id: str, *, limit: int, cursor: str | None
    ) -> Slice[AuditRecord]:
        partition = keys.audit_partition(target_type, target_id)
        query = Query(partition=partition, sort=SortCondition.begins_with(keys.AUDIT_RECORD_PREFIX),
                      limit=limit, start_after=self._cursor(cursor, None, partition))
        return self._page(AuditRecord, query)

    def all_audit_chains(self) -> Iterator[tuple[tuple[str, str], list[AuditRecord], tuple[int, str]]]:
        """Every chain with its head. Offline maintenance only: this scans the whole table."""
        chains: dict[tuple[str, str], list[AuditRecord]] = {}
        heads: dict[tuple[str, str], tuple[int, str]] = {}
        for item in self.table.scan():
            if item.get("entity") == "audit":
                record = _data(item, AuditRecord)
                chains.setdefault((record.target_type, record.target_id), []).append(record)
            elif item.get("entity") == "audit_head":
                _, target_type, target_id = item["pk"].split("#", 2)
                heads[(target_type, target_id)] = (int(item["seq"]), item["hash"])
        for target in sorted(set(chains) | set(heads)):
            records = sorted(chains.get(target, []), key=lambda r: r.seq)
            yield target, records, heads.get(target, (0, ""))

    # --- outbox consumers -------------------------------------------------------------------------------
    def mark_consumed(self, consumer: str, event_id: str, *, ttl_seconds: int) -> bool:
        """Record that `consumer` handled `event_id`; False if it already had."""
        item = {**keys.consumer_marker(consumer, event_id), "entity": "consumer_marker",
                "expires_at": self._epoch_now() + ttl_seconds}
        try:
            self.table.put(item, Condition.absent())
        except TransactionCancelled:
            return False
        return True

    def was_consumed(self, consumer: str, event_id: str) -> bool:
        return self._get(keys.consumer_marker(consumer, event_id)) is not None

    def forget_consumed(self, consumer: str, event_id: str) -> None:
        self.table.delete(keys.consumer_marker(consumer, event_id))

    def put_dead_letter(self, consumer: str, event: EventEnvelope, error: str, attempts: int) -> None:
        key = keys.dead_letter(consumer, event.id)
        self.table.put({**key, "entity": "dead_letter", "consumer": consumer, "error": error[:2000],
                        "attempts": attempts, "event": event.model_dump_json(),
                        "gsi1pk": keys.DEAD_LETTER_LIST, "gsi1sk": f"{event.id}#{consumer}"})

    def dead_letters(self, *, limit: int, cursor: str | None) -> Slice[DeadLetter]:
        start = self._cursor(cursor, "gsi1", keys.DEAD_LETTER_LIST)
        page = self._query(Query(partition=keys.DEAD_LETTER_LIST, index="gsi1", limit=limit, start_after=start))
        letters = [
            DeadLetter(consumer=i["consumer"], error=i["error"], attempts=int(i["attempts"]),
                       event=EventEnvelope.model_validate_json(i["event"]))
            for i in page.items
        ]
        return Slice(letters, _encode_cursor(page.last_key))

    def remove_dead_letter(self, consumer: str, event_id: str) -> None:
        self.table.delete(keys.dead_letter(consumer, event_id))


@dataclass(frozen=True)
class DeadLetter:
    consumer: str
    error: str
    attempts: int
    event: EventEnvelope


__all__ = ["BadCursor", "Check", "CustomerOverview", "DeadLetter", "QueueRef", "Slice", "Store", "UnitOfWork"]
