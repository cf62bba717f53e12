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


def _data(item: Item, model: type[T]) -> T:
    return model.model_validate_json(item["data"])


def _item(key: Key, entity: str, model: BaseModel, **extra: Any) -> Item:
    return {**key, "entity": entity, "data": model.model_dump_json(), **extra}


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


@dataclass
class UnitOfWork:
    """Writes to commit together. `on_conflict[i]` turns a failed condition of op i into a domain error."""

    store: Store
    ops: list[WriteOp] = field(default_factory=list)
    on_conflict: dict[int, Callable[[], DomainError]] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    audit_heads: dict[tuple[str, str], int] = field(default_factory=dict)

    def _add(self, op: WriteOp, error: Callable[[], DomainError] | None = None) -> None:
        if error is not None:
            self.on_conflict[len(self.ops)] = error
        self.ops.append(op)

    # cases
    def put_case(self, case: Case, *, expected_version: int | None, error: Callable[[], DomainError]) -> None:
        """Write a case. `expected_version` None means it must be new."""
        condition = (
            Condition.absent() if expected_version is None else Condition.attribute_is(version=expected_version)
        )
        self._add(Put(self.store.case_item(case), condition), error)
        if expected_version is None:
            self._add(Put({**keys.case_number(case.number), "entity": "case_number", "case_id": case.id}))

    def put_interaction(self, interaction: Interaction) -> None:
        key = keys.interaction(interaction.case_id, interaction.id)
        self._add(Put(_item(key, "interaction", interaction), Condition.absent()))

    def track_open_case(self, case: Case) -> None:
        """Keep the customer's open-case refs in step with the case's status."""
        ref_key = keys.open_case_ref(case.requester_id, case.id)
        if case.status.is_open:
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
        """Add to the customer's counters; several calls in one unit become one Increment."""
        totals = self.counters.setdefault(customer_id, {})
        for name, delta in deltas.items():
            totals[name] = totals.get(name, 0) + delta

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
        for customer_id, deltas in self.counters.items():
            self._add(Increment(keys.customer_counters(customer_id), deltas, {"entity": "customer_counters"}))
        self.counters = {}
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
        queue_sk = keys.queue_sort(case.priority.rank, case.due_at, case.id)
        status = case.status.value
        return _item(
            keys.case(case.id),
            "case",
            case,
            version=case.version,
            gsi1pk=keys.team_queue(case.team_id, status),
            gsi1sk=queue_sk,
            gsi2pk=keys.assignee_queue(case.assignee_id, status),
            gsi2sk=queue_sk,
            gsi3pk=keys.requester_queue(case.requester_id),
            gsi3sk=queue_sk,
        )

    def next_case_number(self) -> int:
        return CASE_NUMBER_START + self.table.increment(keys.counter("case_number"), "value")

    # --- case reads -------------------------------------------------------------------------------------
    def get_case(self, case_id: str) -> Case | None:
        item = self._get(keys.case(case_id))
        return _data(item, Case) if item else None

    def case_id_for_number(self, number: int) -> str | None:
        item = self._get(keys.case_number(number))
        return item["case_id"] if item else None

    def case_with_interactions(
        self, case_id: str, *, limit: int, cursor: str | None = None
    ) -> tuple[Case | None, Slice[Interaction]]:
        """One Query on the case's partition: the case item sorts before its interactions (CASE < M#)."""
        partition = keys.case_partition(case_id)
        start = self._cursor(cursor, None, partition)
        query = Query(partition=partition, limit=limit + (0 if start else 1), start_after=start)
        page = self._query(query)
        case: Case | None = None
        interactions: list[Interaction] = []
        for item in page.items:
            if item["entity"] == "case":
                case = _data(item, Case)
            elif item["entity"] == "interaction":
                interactions.append(_data(item, Interaction))
        if start is None and case is None:
            return None, Slice([], None)
        return case, Slice(interactions, _encode_cursor(page.last_key))

    def get_interaction(self, case_id: str, interaction_id: str) -> Interaction | None:
        item = self._get(keys.interaction(case_id, interaction_id))
        return _data(item, Interaction) if item else None

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
        return self.queue("gsi2", keys.assignee_queue(agent_id, status), limit=limit, cursor=cursor)

    def requester_cases(self, customer_id: str, *, limit: int, cursor: str | None) -> Slice[Case]:
        return self.queue("gsi3", keys.requester_queue(customer_id), limit=limit, cursor=cursor)

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
        """Customer 360 in one Query: profile, counters, open-case refs and the newest timeline page.

        The partition sorts S#PROFILE > S#COUNTS > R#<case> > E#<entry>, so reading it backwards yields
        them in that order. We read enough for OPEN_REFS_SHOWN refs plus a page; a customer with more open
        cases than that costs a second Query to fill the timeline page.
        """
        partition = keys.customer_partition(customer_id)
        want = 2 + OPEN_REFS_SHOWN + page_size
        page = self._query(Query(partition=partition, forward=False, limit=want,
                                 sort=SortCondition(SortOp.LE, keys.PROFILE_SK)))
        customer: Customer | None = None
        counts: dict[str, int] = {}
        refs: list[OpenCaseRef] = []
        entries: list[Item] = []
        for item in page.items:
            entity = item["entity"]
            if entity == "customer":
                customer = _data(item, Customer)
            elif entity == "customer_counters":
                counts = {k: int(v) for k, v in item.items() if k not in {"pk", "sk", "entity"}}
            elif entity == "open_case_ref":
                if len(refs) < OPEN_REFS_SHOWN:
                    refs.append(OpenCaseRef(**json.loads(item["data"])))
            elif entity == "timeline_entry":
                entries.append(item)
        if customer is None:
            return None
        if len(entries) > page_size:
            timeline = Slice([_data(i, TimelineEntry) for i in entries[:page_size]],
                             _encode_cursor(page_key(entries[page_size - 1], None)))
        elif page.last_key is not None and len(entries) < page_size:
            # Many open cases pushed timeline entries out of the first read.
            start = page_key(entries[-1], None) if entries else None
            rest = self.timeline(customer_id, limit=page_size - len(entries),
                                 cursor=_encode_cursor(start) if start else None)
            timeline = Slice([_data(i, TimelineEntry) for i in entries] + rest.items, rest.cursor)
        else:
            cursor = _encode_cursor(page_key(entries[-1], None)) if page.last_key and entries else None
            timeline = Slice([_data(i, TimelineEntry) for i in entries], cursor)
        return CustomerOverview(customer, counts, refs, timeline)

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


__all__ = ["BadCursor", "Check", "CustomerOverview", "DeadLetter", "Slice", "Store", "UnitOfWork"]
