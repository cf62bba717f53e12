"""Customer commands and queries: find-or-create, profile updates, external timeline events, 360."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..adapters.store import OpenCaseRef, Slice
from ..domain.audit import diff
from ..domain.auth import Principal, Role
from ..domain.customer import Customer
from ..domain.errors import AlreadyExists, Forbidden, NotFound, RuleViolation, VersionConflict
from ..domain.events import CustomerCreated, CustomerUpdated, TimelineEntryRecorded
from ..domain.timeline import EXTERNAL_KINDS, TimelineEntry, TimelineKind
from .authz import check_customer_access, require_staff
from .commands import (
    CUSTOMER_EDITABLE,
    FUTURE_TOLERANCE,
    CreateCustomer,
    CustomerRef,
    RecordTimelineEvent,
    UpdateCustomer,
)
from .context import Change, Deps, Request, retrying

MAX_PAYLOAD_BYTES = 32_768


def identities_of(customer: Customer) -> set[tuple[str, str]]:
    found = {("email", e) for e in customer.emails} | {("phone", p) for p in customer.phones}
    return found | {(f"ext:{system}", value) for system, value in customer.external_ids.items()}


def _identities_of_ref(ref: CustomerRef) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if ref.email:
        found.append(("email", ref.email))
    if ref.phone:
        found.append(("phone", ref.phone))
    if ref.external:
        found.append((f"ext:{ref.external.system}", ref.external.id))
    return found


def get_customer(deps: Deps, request: Request, customer_id: str) -> Customer:
    check_customer_access(request.principal, customer_id)
    customer = deps.store.get_customer(customer_id)
    if customer is not None:
        return customer
    raise NotFound(f"customer {customer_id} does not exist", customer_id=customer_id)


def find_customer(deps: Deps, ref: CustomerRef) -> Customer | None:
    if ref.customer_id:
        return deps.store.get_customer(ref.customer_id)
    for kind, value in _identities_of_ref(ref):
        owner = deps.store.customer_for_identity(kind, value)
        if owner:
            return deps.store.get_customer(owner)
    return None


def new_customer(change: Change, ref: CustomerRef) -> Customer:
    """Add a new customer, claiming its emails/phones/external ids, to `change`."""
    if ref.customer_id:
        raise NotFound(f"customer {ref.customer_id} does not exist", customer_id=ref.customer_id)
    name = ref.name or ref.email or ref.phone or (ref.external.id if ref.external else "Customer")
    customer = Customer(
        id=change.new_id(change.now),
        name=name,
        emails=[ref.email] if ref.email else [],
        phones=[ref.phone] if ref.phone else [],
        external_ids={ref.external.system: ref.external.id} if ref.external else {},
        created_at=change.now,
        updated_at=change.now,
    )
    for kind, value in identities_of(customer):
        change.uow.claim_identity(
            kind, value, customer.id,
            lambda k=kind: VersionConflict(f"another customer took this {k} at the same moment; try again"),
        )
    change.uow.put_customer(
        customer, expected_version=None, error=lambda: VersionConflict("customer id collision; try again")
    )
    change.uow.count(customer.id, cases_total=0)
    change.emit(CustomerCreated(customer_id=customer.id, name=customer.name), subject=customer.id)
    change.audit("customer", customer.id, "customer.created",
                 diff({}, customer.model_dump(mode="json", exclude={"version"})), new_target=True)
    return customer


def resolve_customer(deps: Deps, change: Change, ref: CustomerRef) -> Customer:
    """The existing customer the reference names, or a new one added to `change`."""
    return find_customer(deps, ref) or new_customer(change, ref)


def create_customer(deps: Deps, request: Request, command: CreateCustomer) -> Customer:
    require_staff(request.principal, "creating customers")
    change = Change(deps, request)
    customer = Customer(id=change.new_id(change.now), created_at=change.now, updated_at=change.now,
                        **command.model_dump())
    for kind, value in sorted(identities_of(customer)):
        change.uow.claim_identity(
            kind, value, customer.id,
            lambda k=kind, v=value: AlreadyExists(f"{k} {v} belongs to another customer", field=k),
        )
    change.uow.put_customer(customer, expected_version=None,
                            error=lambda: VersionConflict("customer id collision; try again"))
    change.uow.count(customer.id, cases_total=0)
    change.emit(CustomerCreated(customer_id=customer.id, name=customer.name), subject=customer.id)
    change.audit("customer", customer.id, "customer.created",
                 diff({}, customer.model_dump(mode="json", exclude={"version"})), new_target=True)
    change.commit()
    return customer


def timeline_entry(deps: Deps, request: Request, customer_id: str, entry_id: str) -> TimelineEntry | None:
    require_staff(request.principal, "the customer timeline")
    return deps.store.get_timeline_entry(customer_id, entry_id)


def update_customer(
    deps: Deps, request: Request, customer_id: str, command: UpdateCustomer, *, expected_version: int | None
) -> Customer:
    principal = request.principal
    check_customer_access(principal, customer_id)
    requested = command.model_dump(exclude_unset=True)
    if principal.role is Role.CUSTOMER:
        locked = sorted(set(requested) - CUSTOMER_EDITABLE)
        if locked:
            raise Forbidden(f"customers cannot change {', '.join(locked)}; contact support")
    elif not principal.at_least(Role.AGENT):
        raise Forbidden("updating a customer needs the agent role")

    def attempt() -> Customer:
        current = get_customer(deps, request, customer_id)
        if expected_version is not None and expected_version != current.version:
            raise _stale(current.version)
        change = Change(deps, request)
        updated = Customer.model_validate(
            {**current.model_dump(), **requested, "version": current.version + 1, "updated_at": change.now}
        )
        changes = diff(current.model_dump(mode="json"), updated.model_dump(mode="json"),
                       ignore=frozenset({"version", "updated_at"}))
        if not changes:
            return current
        before, after = identities_of(current), identities_of(updated)
        for kind, value in sorted(after - before):
            change.uow.claim_identity(
                kind, value, customer_id,
                lambda k=kind, v=value: AlreadyExists(f"{k} {v} belongs to another customer", field=k),
            )
        for kind, value in sorted(before - after):
            change.uow.release_identity(kind, value, customer_id)
        change.uow.put_customer(updated, expected_version=current.version, error=lambda: _stale(None))
        change.emit(CustomerUpdated(customer_id=customer_id, changed=sorted(changes)), subject=customer_id)
        change.audit("customer", customer_id, "customer.updated", changes)
        _record(change, TimelineEntry(
            id=change.new_id(change.now), customer_id=customer_id, kind=TimelineKind.PROFILE_CHANGE,
            occurred_at=change.now, summary=f"Profile updated: {', '.join(sorted(changes))}",
            payload={"changed": sorted(changes), "by": principal.actor_id},
        ))
        change.commit()
        return updated

    if expected_version is not None:
        return attempt()
    return retrying(3, attempt)


def _stale(current: int | None) -> VersionConflict:
    return VersionConflict("the customer was changed by someone else; reload and retry", current_version=current)


def _record(change: Change, entry: TimelineEntry) -> None:
    change.uow.add_timeline_entry(entry)
    change.uow.count(entry.customer_id, timeline_entries=1)


def record_timeline_entry(change: Change, entry: TimelineEntry) -> None:
    """Add a Caseline-made entry (interaction, case event) to a customer's timeline within `change`."""
    _record(change, entry)


@dataclass(frozen=True)
class Recorded:
    entry: TimelineEntry
    created: bool


def record_external_event(deps: Deps, request: Request, command: RecordTimelineEvent) -> Recorded:
    """An order, payment, crash report ... from another system. Idempotent on (source, external_id)."""
    require_staff(request.principal, "recording timeline events")
    if command.kind not in EXTERNAL_KINDS:
        allowed = ", ".join(sorted(k.value for k in EXTERNAL_KINDS))
        raise RuleViolation(f"other systems may record these kinds only: {allowed}", field="kind")
    if command.occurred_at > deps.clock.now() + FUTURE_TOLERANCE:
        raise RuleViolation("occurred_at is in the future", field="occurred_at")
    if len(json.dumps(command.payload, default=str)) > MAX_PAYLOAD_BYTES:
        raise RuleViolation(f"payload is larger than {MAX_PAYLOAD_BYTES} bytes", field="payload")

    def existing() -> Recorded | None:
        if command.external_id is None:
            return None
        found = deps.store.external_event_entry(command.source, command.external_id)
        if found is None:
            return None
        entry = deps.store.get_timeline_entry(*found)
        return Recorded(entry, created=False) if entry else None

    def attempt() -> Recorded:
        previous = existing()
        if previous:
            return previous
        change = Change(deps, request)
        customer = resolve_customer(deps, change, command.customer)
        entry = TimelineEntry(
            id=change.new_id(command.occurred_at),
            customer_id=customer.id,
            kind=command.kind,
            channel=command.channel,
            occurred_at=command.occurred_at,
            summary=command.summary,
            source=command.source,
            external_id=command.external_id,
            payload=command.payload,
        )
        if command.external_id is not None:
            change.uow.claim_external_event(
                command.source, command.external_id, entry,
                lambda: VersionConflict("the same event is being recorded right now"),
            )
        _record(change, entry)
        change.emit(TimelineEntryRecorded(customer_id=customer.id, entry_id=entry.id, kind=entry.kind,
                                          source=entry.source), subject=customer.id)
        change.audit("customer", customer.id, "customer.timeline_event_recorded",
                     diff({}, {"entry_id": entry.id, "kind": entry.kind.value, "source": entry.source}),
                     new_target=False)
        change.commit()
        return Recorded(entry, created=True)

    return retrying(3, attempt)


@dataclass(frozen=True)
class Customer360:
    customer: Customer
    counts: dict[str, int]
    open_cases: list[OpenCaseRef]
    timeline: Slice[TimelineEntry]


def customer_360(deps: Deps, request: Request, customer_id: str, *, page_size: int) -> Customer360:
    require_staff(request.principal, "the customer 360 view")
    overview = deps.store.customer_overview(customer_id, page_size=page_size)
    if overview is None:
        raise NotFound(f"customer {customer_id} does not exist", customer_id=customer_id)
    return Customer360(overview.customer, overview.counts, overview.open_cases, overview.timeline)


def customer_timeline(
    deps: Deps,
    request: Request,
    customer_id: str,
    *,
    limit: int,
    cursor: str | None,
    kind: str | None,
    channel: str | None,
) -> Slice[TimelineEntry]:
    require_staff(request.principal, "the customer timeline")
    return deps.store.timeline(customer_id, limit=limit, cursor=cursor, kind=kind, channel=channel)


def list_customers(deps: Deps, request: Request, *, limit: int, cursor: str | None) -> Slice[Customer]:
    require_staff(request.principal, "listing customers")
    return deps.store.list_customers(limit=limit, cursor=cursor)


def principal_customer(principal: Principal) -> str:
    if principal.role is not Role.CUSTOMER or not principal.customer_id:
        raise Forbidden("only customers have a /me profile")
    return principal.customer_id
