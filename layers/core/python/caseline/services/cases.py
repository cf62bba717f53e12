"""Case commands and queries."""

from __future__ import annotations

import re
from dataclasses import dataclass

import nh3

from ..adapters.store import Slice
from ..domain.audit import diff
from ..domain.auth import Role
from ..domain.case import Case, CaseStatus, check_transition
from ..domain.common import Channel
from ..domain.errors import Forbidden, NotFound, PreconditionRequired, RuleViolation, VersionConflict
from ..domain.events import (
    CaseAssigned,
    CaseOpened,
    CaseReopened,
    CaseStatusChanged,
    CaseUpdated,
    NoteAdded,
    ReplyAdded,
)
from ..domain.interaction import Author, AuthorKind, DeliveryStatus, Direction, Interaction, Visibility
from ..domain.timeline import TimelineEntry, TimelineKind
from . import sla_clock
from .attachments import check_attachments
from .authz import case_not_found, check_case_access, require_role, require_staff
from .commands import AddNote, AddReply, AssignCase, CustomerRef, OpenCase, UpdateCase
from .context import Change, Deps, Request, retrying
from .customers import record_timeline_entry, resolve_customer

MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._\-]{1,39})", re.IGNORECASE)
MAX_MENTIONS = 20
CUSTOMER_CHANNELS = frozenset({Channel.WEB, Channel.API})
_CASE_AUDIT_IGNORE = frozenset({"version", "updated_at"})


def sanitise_html(html: str | None) -> str | None:
    """Keep formatting, drop scripts, event handlers and anything that loads remote content."""
    if html is None:
        return None
    return nh3.clean(html, tags=nh3.ALLOWED_TAGS - {"img"}, link_rel="noopener noreferrer nofollow")


def _author(request: Request) -> Author:
    p = request.principal
    kind = AuthorKind.CUSTOMER if p.role is Role.CUSTOMER else AuthorKind.AGENT
    return Author(kind=kind, id=p.actor_id, name=p.name)


def _excerpt(text: str, size: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def _case_event_entry(change: Change, case: Case, summary: str, **payload: object) -> TimelineEntry:
    return TimelineEntry(
        id=change.new_id(change.now),
        customer_id=case.requester_id,
        kind=TimelineKind.CASE_EVENT,
        channel=case.channel,
        occurred_at=change.now,
        summary=summary,
        case_id=case.id,
        payload={"case_number": case.number, **payload},
    )


def _interaction_entry(change: Change, case: Case, interaction: Interaction) -> TimelineEntry:
    label = "Internal note" if interaction.visibility is Visibility.INTERNAL else interaction.direction.value.title()
    return TimelineEntry(
        id=change.new_id(change.now),
        customer_id=case.requester_id,
        kind=TimelineKind.INTERACTION,
        channel=interaction.channel,
        occurred_at=interaction.created_at,
        summary=f"{label} on {case.display_number}: {_excerpt(interaction.text, 120)}",
        case_id=case.id,
        payload={
            "interaction_id": interaction.id,
            "direction": interaction.direction.value,
            "visibility": interaction.visibility.value,
            "author": interaction.author.model_dump(),
            "case_number": case.number,
        },
    )


def _stale(case: Case | None) -> VersionConflict:
    return VersionConflict(
        "the case was changed by someone else; reload it and decide again",
        current_version=case.version if case else None,
    )


def _write_case(change: Change, before: Case | None, after: Case, action: str) -> None:
    """Store the case with its version check, its open-case ref and its audit record."""
    expected = None if before is None else before.version
    change.uow.put_case(after, expected_version=expected, error=lambda: _stale(None), previous=before)
    change.uow.track_open_case(after)
    before_json = {} if before is None else before.model_dump(mode="json")
    change.audit("case", after.id, action, diff(before_json, after.model_dump(mode="json"),
                                                 ignore=_CASE_AUDIT_IGNORE), new_target=before is None)


# --- commands -------------------------------------------------------------------------------------------
def open_case(deps: Deps, request: Request, command: OpenCase) -> Case:
    principal = request.principal
    if principal.role is Role.CUSTOMER:
        if command.channel not in CUSTOMER_CHANNELS:
            raise Forbidden("customers open cases through the portal (web) or the API")
        if command.requester and command.requester.customer_id not in (None, principal.customer_id):
            raise Forbidden("customers can only open cases for themselves")
        staff_only = {"team_id", "custom_fields", "tags", "category"} & command.model_fields_set
        if staff_only:
            raise Forbidden(f"customers cannot set {', '.join(sorted(staff_only))}")
        requester = CustomerRef(customer_id=principal.customer_id)
    else:
        require_staff(principal, "opening a case")
        if command.requester is None:
            raise RuleViolation("staff must say who the requester is", field="requester")
        requester = command.requester
    if command.attachments:
        # Files are uploaded to an existing case (POST /cases/{id}/attachments/uploads); send them with a reply.
        raise RuleViolation("attach files with a reply once the case exists", field="attachments")
    if command.team_id and deps.store.get_team(command.team_id) is None:
        raise RuleViolation(f"team {command.team_id} does not exist", field="team_id")

    def attempt() -> Case:
        change = Change(deps, request)
        customer = resolve_customer(deps, change, requester)
        number = deps.store.next_case_number()
        case = Case(
            id=change.new_id(change.now),
            number=number,
            subject=command.subject,
            priority=command.priority,
            category=command.category,
            tags=command.tags,
            channel=command.channel,
            requester_id=customer.id,
            requester_name=customer.name,
            team_id=command.team_id,
            language=command.language,
            custom_fields=command.custom_fields,
            created_at=change.now,
            updated_at=change.now,
        )
        first = Interaction(
            id=change.new_id(change.now),
            case_id=case.id,
            customer_id=customer.id,
            channel=command.channel,
            direction=Direction.INBOUND,
            author=Author(kind=AuthorKind.CUSTOMER, id=customer.id, name=customer.name),
            text=command.text,
            html=sanitise_html(command.html),
            attachments=command.attachments,
            created_at=change.now,
        )
        case = sla_clock.start_clocks(deps, case, [first], customer.tier, change.now)
        _write_case(change, None, case, "case.opened")
        change.uow.put_interaction(first)
        change.uow.count(customer.id, cases_total=1, interactions=1)
        record_timeline_entry(change, _case_event_entry(change, case, f"Case {case.display_number} opened: "
                                                        f"{_excerpt(case.subject, 100)}", status=case.status.value))
        record_timeline_entry(change, _interaction_entry(change, case, first))
        change.emit(CaseOpened(case_id=case.id, number=case.number, customer_id=customer.id,
                               channel=case.channel, subject=case.subject, priority=case.priority,
                               team_id=case.team_id, language=case.language), subject=case.id)
        change.count_metric("CasesOpened")
        change.commit()
        return case

    return retrying(3, attempt)


def _load(deps: Deps, request: Request, case_id: str) -> Case:
    return check_case_access(request.principal, deps.store.get_case(case_id), case_id)


MAX_MERGE_DEPTH = 10


def load_target(deps: Deps, request: Request, case_id: str) -> Case:
    """The case to write to: a merged case forwards to the case it was merged into."""
    case = _load(deps, request, case_id)
    for _ in range(MAX_MERGE_DEPTH):
        if case.merged_into is None:
            return case
        case = _load(deps, request, case.merged_into)
    raise RuleViolation(f"case {case_id} is merged more than {MAX_MERGE_DEPTH} levels deep")


def _check_version(case: Case, expected: int | None) -> None:
    if expected is not None and expected != case.version:
        raise _stale(case)


def _bump(case: Case, change: Change, **updates: object) -> Case:
    return case.model_copy(update={**updates, "version": case.version + 1, "updated_at": change.now})


def add_reply(
    deps: Deps, request: Request, case_id: str, command: AddReply, *, expected_version: int | None = None
) -> Interaction:
    """A public message. From staff it is outbound (and may set a status); from the customer, inbound."""
    principal = request.principal
    customer_reply = principal.role is Role.CUSTOMER
    if customer_reply and command.status is not None:
        raise Forbidden("customers cannot set a status with their reply")
    if not customer_reply:
        require_staff(principal, "replying")

    def attempt() -> Interaction:
        case = load_target(deps, request, case_id)
        if case.id == case_id:
            _check_version(case, expected_version)
        if case.status is CaseStatus.CLOSED:
            raise RuleViolation(f"case {case.display_number} is closed; open a follow-up case instead")
        check_attachments(deps, case, command.attachments)
        change = Change(deps, request)
        interaction = Interaction(
            id=change.new_id(change.now),
            case_id=case.id,
            customer_id=case.requester_id,
            channel=command.channel or case.channel,
            direction=Direction.INBOUND if customer_reply else Direction.OUTBOUND,
            author=_author(request),
            text=command.text,
            html=sanitise_html(command.html),
            attachments=command.attachments,
            delivery_status=None if customer_reply else _delivery_status(command.channel or case.channel),
            created_at=change.now,
        )
        first_response = not customer_reply and case.first_response_at is None
        target = _status_after_reply(case, command.status, customer_reply)
        updates: dict[str, object] = {}
        if first_response:
            updates["first_response_at"] = change.now
        events = []
        if target is not None and target is not case.status:
            check_transition(case.status, target)
            updates["status"] = target
            updates["solved_at"] = change.now if target is CaseStatus.SOLVED else None
            events.append(CaseStatusChanged(case_id=case.id, customer_id=case.requester_id,
                                            previous=case.status, current=target))
        updated = _bump(case, change, **updates)
        _write_case(change, case, updated, "case.reply_added")
        change.uow.put_interaction(interaction)
        change.uow.count(case.requester_id, interactions=1)
        record_timeline_entry(change, _interaction_entry(change, updated, interaction))
        change.emit(ReplyAdded(case_id=case.id, interaction_id=interaction.id, customer_id=case.requester_id,
                               channel=interaction.channel, author_kind=interaction.author.kind.value,
                               first_response=first_response), subject=case.id)
        for event in events:
            change.emit(event, subject=case.id)
            if case.status is CaseStatus.SOLVED and event.current is CaseStatus.OPEN:
                change.emit(CaseReopened(case_id=case.id, customer_id=case.requester_id), subject=case.id)
        change.count_metric("RepliesAdded")
        if first_response:
            change.count_metric("FirstResponseTimeSeconds", (change.now - case.created_at).total_seconds(),
                                "Seconds")
        change.commit()
        return interaction

    return attempt() if expected_version is not None else retrying(3, attempt)


def _delivery_status(channel: Channel) -> DeliveryStatus | None:
    """Replies on channels we deliver asynchronously start queued; the sender updates the status."""
    return DeliveryStatus.QUEUED if channel in (Channel.EMAIL, Channel.SOCIAL) else None


def _status_after_reply(case: Case, requested: CaseStatus | None, customer_reply: bool) -> CaseStatus | None:
    if requested is not None:
        return requested
    if customer_reply:
        # The customer answered: the ball is back with us.
        return CaseStatus.OPEN if case.status in (CaseStatus.PENDING, CaseStatus.SOLVED) else None
    return CaseStatus.OPEN if case.status is CaseStatus.NEW else None


def add_note(deps: Deps, request: Request, case_id: str, command: AddNote) -> Interaction:
    require_staff(request.principal, "internal notes")
    handles = list(dict.fromkeys(m.lower() for m in MENTION.findall(command.text)))[:MAX_MENTIONS]
    mentions: list[str] = []
    for handle in handles:
        agent_id = deps.store.agent_for_handle(handle)
        if agent_id is None:
            raise RuleViolation(f"nobody is called @{handle}", field="text")
        mentions.append(agent_id)

    def attempt() -> Interaction:
        case = load_target(deps, request, case_id)
        check_attachments(deps, case, command.attachments)
        change = Change(deps, request)
        note = Interaction(
            id=change.new_id(change.now),
            case_id=case.id,
            customer_id=case.requester_id,
            channel=case.channel,
            direction=Direction.OUTBOUND,
            visibility=Visibility.INTERNAL,
            author=_author(request),
            text=command.text,
            attachments=command.attachments,
            mentions=mentions,
            created_at=change.now,
        )
        updated = _bump(case, change)
        _write_case(change, case, updated, "case.note_added")
        change.uow.put_interaction(note)
        record_timeline_entry(change, _interaction_entry(change, updated, note))
        change.emit(NoteAdded(case_id=case.id, interaction_id=note.id, mentions=mentions), subject=case.id)
        change.commit()
        return note

    return retrying(3, attempt)


def assign_case(
    deps: Deps, request: Request, case_id: str, command: AssignCase, *, expected_version: int | None = None
) -> Case:
    require_staff(request.principal, "assigning cases")
    if command.assignee_id and deps.store.get_agent(command.assignee_id) is None:
        raise RuleViolation(f"agent {command.assignee_id} does not exist", field="assignee_id")
    if command.team_id and deps.store.get_team(command.team_id) is None:
        raise RuleViolation(f"team {command.team_id} does not exist", field="team_id")
    expected = expected_version if expected_version is not None else command.version

    def attempt() -> Case:
        case = _load(deps, request, case_id)
        _check_version(case, expected)
        change = Change(deps, request)
        updates = {"assignee_id": command.assignee_id}
        if "team_id" in command.model_fields_set:
            updates["team_id"] = command.team_id
        updated = _bump(case, change, **updates)
        if (updated.assignee_id, updated.team_id) == (case.assignee_id, case.team_id):
            return case
        _write_case(change, case, updated, "case.assigned")
        record_timeline_entry(change, _case_event_entry(
            change, updated, f"{updated.display_number} assigned",
            assignee_id=updated.assignee_id, team_id=updated.team_id))
        change.emit(CaseAssigned(case_id=case.id, assignee_id=updated.assignee_id, team_id=updated.team_id,
                                 previous_assignee_id=case.assignee_id, previous_team_id=case.team_id),
                    subject=case.id)
        change.commit()
        return updated

    return attempt() if expected is not None else retrying(3, attempt)


def update_case(
    deps: Deps, request: Request, case_id: str, command: UpdateCase, *, expected_version: int | None
) -> Case:
    """Change status, priority, category, tags, subject, language or custom fields — with If-Match."""
    require_staff(request.principal, "editing cases")
    if expected_version is None:
        raise PreconditionRequired("send If-Match with the case's ETag so that no one's change is lost")
    case = _load(deps, request, case_id)
    _check_version(case, expected_version)
    change = Change(deps, request)
    requested = command.model_dump(exclude_unset=True)
    updates: dict[str, object] = {k: v for k, v in requested.items() if k != "status"}
    events = []
    status = command.status
    if status is not None and status is not case.status:
        check_transition(case.status, status)
        updates["status"] = status
        updates["solved_at"] = change.now if status is CaseStatus.SOLVED else case.solved_at
        events.append(CaseStatusChanged(case_id=case.id, customer_id=case.requester_id,
                                        previous=case.status, current=status))
        if status is CaseStatus.SOLVED:
            change.count_metric("CasesSolved")
    updated = Case.model_validate({**case.model_dump(), **updates, "version": case.version + 1,
                                   "updated_at": change.now})
    changed = sorted(diff(case.model_dump(mode="json"), updated.model_dump(mode="json"),
                          ignore=_CASE_AUDIT_IGNORE | {"status", "solved_at"}))
    if not changed and not events:
        return case
    _write_case(change, case, updated, "case.updated")
    if events:
        record_timeline_entry(change, _case_event_entry(
            change, updated, f"{updated.display_number} {case.status.value} → {updated.status.value}",
            previous=case.status.value, current=updated.status.value))
    for event in events:
        change.emit(event, subject=case.id)
    if changed:
        change.emit(CaseUpdated(case_id=case.id, changed=changed), subject=case.id)
    change.commit()
    return updated


def reopen_case(deps: Deps, request: Request, case_id: str, *, expected_version: int | None = None) -> Case:
    principal = request.principal
    case = _load(deps, request, case_id)
    _check_version(case, expected_version)
    if case.status is not CaseStatus.SOLVED:
        raise RuleViolation(f"only solved cases can be reopened; {case.display_number} is {case.status.value}")
    check_transition(case.status, CaseStatus.OPEN)
    change = Change(deps, request)
    updated = _bump(case, change, status=CaseStatus.OPEN, solved_at=None)
    _write_case(change, case, updated, "case.reopened")
    who = "customer" if principal.role is Role.CUSTOMER else "agent"
    record_timeline_entry(change, _case_event_entry(change, updated, f"{updated.display_number} reopened",
                                                    by=who, previous="solved", current="open"))
    change.emit(CaseStatusChanged(case_id=case.id, customer_id=case.requester_id,
                                  previous=CaseStatus.SOLVED, current=CaseStatus.OPEN), subject=case.id)
    change.emit(CaseReopened(case_id=case.id, customer_id=case.requester_id), subject=case.id)
    change.commit()
    return updated


# --- queries --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseDetail:
    case: Case
    interactions: Slice[Interaction]


def get_case(deps: Deps, request: Request, case_id: str, *, limit: int, cursor: str | None) -> CaseDetail:
    """The case and a page of its conversation — including that of the cases merged into it."""
    case, interactions = (None, None) if cursor else deps.store.case_with_interactions(case_id, limit=limit)
    if case is None:
        case = deps.store.get_case(case_id)
    case = check_case_access(request.principal, case, case_id)
    if cursor is not None or case.merged_from:
        interactions = deps.store.interactions_of([case.id, *case.merged_from], limit=limit, cursor=cursor)
    assert interactions is not None
    if request.principal.role is Role.CUSTOMER:
        visible = [i for i in interactions.items if i.visibility is Visibility.PUBLIC]
        interactions = Slice(visible, interactions.cursor)
    return CaseDetail(case, interactions)


def get_interaction(deps: Deps, request: Request, case_id: str, interaction_id: str) -> Interaction | None:
    _load(deps, request, case_id)
    found = deps.store.get_interaction(case_id, interaction_id)
    if found and request.principal.role is Role.CUSTOMER and found.visibility is not Visibility.PUBLIC:
        return None
    return found


def get_case_by_number(deps: Deps, request: Request, number: int) -> Case:
    case_id = deps.store.case_id_for_number(number)
    if case_id is None:
        raise NotFound(f"case #{number} does not exist")
    return _load(deps, request, case_id)


def team_queue(deps: Deps, request: Request, team_id: str | None, status: CaseStatus, *, limit: int,
               cursor: str | None) -> Slice[Case]:
    require_staff(request.principal, "queues")
    return deps.store.team_queue(team_id, status.value, limit=limit, cursor=cursor)


def assignee_queue(deps: Deps, request: Request, agent_id: str | None, status: CaseStatus, *, limit: int,
                   cursor: str | None) -> Slice[Case]:
    require_staff(request.principal, "queues")
    return deps.store.assignee_queue(agent_id, status.value, limit=limit, cursor=cursor)


def requester_cases(deps: Deps, request: Request, customer_id: str, *, limit: int,
                    cursor: str | None) -> Slice[Case]:
    principal = request.principal
    if principal.role is Role.CUSTOMER and principal.customer_id != customer_id:
        raise NotFound(f"customer {customer_id} does not exist")
    if principal.role is not Role.CUSTOMER:
        require_staff(principal, "queues")
    return deps.store.requester_cases(customer_id, limit=limit, cursor=cursor)


def audit_trail(deps: Deps, request: Request, case_id: str, *, limit: int, cursor: str | None):
    require_role(request.principal, Role.SUPERVISOR, "reading the audit trail")
    if deps.store.get_case(case_id) is None:
        raise case_not_found(case_id)
    return deps.store.audit_trail("case", case_id, limit=limit, cursor=cursor)
