"""Bulk case updates: one request, many cases, a result per case.

Each case is its own unit of work: one case failing (stale version, a transition the lifecycle forbids,
a merged case) does not stop or undo the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.case import Case, CaseStatus, check_transition
from ..domain.errors import DomainError, RuleViolation
from ..domain.events import CaseAssigned, CaseStatusChanged, CaseUpdated
from .authz import require_staff
from .cases import _case_event_entry, _load, _stale, _write_case
from .commands import BulkChanges, BulkUpdate
from .context import Change, Deps, Request
from .customers import record_timeline_entry


@dataclass(frozen=True)
class BulkOutcome:
    case_id: str
    case: Case | None = None
    error: DomainError | None = None


def bulk_update(deps: Deps, request: Request, command: BulkUpdate) -> list[BulkOutcome]:
    require_staff(request.principal, "bulk updates")
    changes = command.changes
    if changes.assignee_id and deps.store.get_agent(changes.assignee_id) is None:
        raise RuleViolation(f"agent {changes.assignee_id} does not exist", field="changes.assignee_id")
    if changes.team_id and deps.store.get_team(changes.team_id) is None:
        raise RuleViolation(f"team {changes.team_id} does not exist", field="changes.team_id")
    outcomes = []
    for case_id in command.case_ids:
        try:
            outcomes.append(BulkOutcome(case_id, case=_update_one(deps, request, case_id, changes,
                                                                  command.versions.get(case_id))))
        except DomainError as exc:
            outcomes.append(BulkOutcome(case_id, error=exc))
    return outcomes


def _update_one(deps: Deps, request: Request, case_id: str, changes: BulkChanges, expected: int | None) -> Case:
    case = _load(deps, request, case_id)
    if expected is not None and expected != case.version:
        raise _stale(case)
    if case.merged_into is not None:
        raise RuleViolation(f"case {case.display_number} is merged into another case")
    change = Change(deps, request)
    updates: dict[str, object] = {}
    fields = changes.model_fields_set
    if changes.status is not None and changes.status is not case.status:
        check_transition(case.status, changes.status)
        updates["status"] = changes.status
        updates["solved_at"] = change.now if changes.status is CaseStatus.SOLVED else case.solved_at
    if "assignee_id" in fields:
        updates["assignee_id"] = changes.assignee_id
    if "team_id" in fields:
        updates["team_id"] = changes.team_id
    if changes.add_tags or changes.remove_tags:
        tags = [t for t in case.tags if t not in changes.remove_tags]
        tags += [t for t in changes.add_tags if t not in tags]
        updates["tags"] = tags[:50]
    updated = Case.model_validate({**case.model_dump(), **updates, "version": case.version + 1,
                                   "updated_at": change.now})
    if updated.model_dump(exclude={"version", "updated_at"}) == case.model_dump(exclude={"version", "updated_at"}):
        return case
    _write_case(change, case, updated, "case.bulk_updated")
    if updated.status is not case.status:
        change.emit(CaseStatusChanged(case_id=case.id, customer_id=case.requester_id, previous=case.status,
                                      current=updated.status), subject=case.id)
        record_timeline_entry(change, _case_event_entry(
            change, updated, f"{updated.display_number} {case.status.value} → {updated.status.value}",
            previous=case.status.value, current=updated.status.value))
        if updated.status is CaseStatus.SOLVED:
            change.count_metric("CasesSolved")
    if (updated.assignee_id, updated.team_id) != (case.assignee_id, case.team_id):
        change.emit(CaseAssigned(case_id=case.id, assignee_id=updated.assignee_id, team_id=updated.team_id,
                                 previous_assignee_id=case.assignee_id, previous_team_id=case.team_id),
                    subject=case.id)
    if updated.tags != case.tags:
        change.emit(CaseUpdated(case_id=case.id, changed=["tags"]), subject=case.id)
    change.commit()
    return updated
