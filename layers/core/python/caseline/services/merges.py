"""Merge duplicate cases into a survivor, and undo a merge within the configured window.

A merge is logical: a source keeps its own items and becomes a pointer (`merged_into`); the survivor
lists it in `merged_from` and shows the sources' conversations with its own (`get_case`). Replies and
notes sent to a source land on the survivor. So the whole merge is one transaction however long the
conversations are, and undoing it restores each case from the snapshot taken at merge time — only the
version moves on, so that stale edits made before the undo still get 412.
"""

from __future__ import annotations

from datetime import timedelta

from ..domain.case import Case
from ..domain.errors import NotFound, RuleViolation, VersionConflict
from ..domain.events import CaseMerged, CaseUnmerged
from ..domain.merge import MergeRecord, MergeState
from .authz import require_staff
from .cases import _case_event_entry, _load, _write_case
from .commands import MergeCases
from .context import Change, Deps, Request
from .customers import record_timeline_entry


def _changed_meanwhile() -> VersionConflict:
    return VersionConflict("one of the cases changed while merging; reload and try again")


def merge_cases(deps: Deps, request: Request, survivor_id: str, command: MergeCases) -> MergeRecord:
    require_staff(request.principal, "merging cases")
    if survivor_id in command.source_ids:
        raise RuleViolation("a case cannot be merged into itself", field="source_ids")
    survivor = _load(deps, request, survivor_id)
    sources = [_load(deps, request, case_id) for case_id in command.source_ids]
    for case in [survivor, *sources]:
        if case.merged_into is not None:
            raise RuleViolation(f"case {case.display_number} is already merged into another case")
    change = Change(deps, request)
    record = MergeRecord(
        id=change.new_id(change.now),
        survivor_id=survivor.id,
        source_ids=[s.id for s in sources],
        before={c.id: c for c in [survivor, *sources]},
        merged_at=change.now,
        undo_until=change.now + timedelta(minutes=deps.settings.merge_undo_minutes),
        actor_id=request.principal.actor_id,
    )
    absorbed = [case_id for s in sources for case_id in (s.id, *s.merged_from)]
    new_survivor = survivor.model_copy(update={
        "merged_from": [*survivor.merged_from, *absorbed], "version": survivor.version + 1, "updated_at": change.now})
    _write_case(change, survivor, new_survivor, "case.merged")
    for source in sources:
        pointer = source.model_copy(update={"merged_into": survivor.id, "version": source.version + 1,
                                            "updated_at": change.now})
        _write_case(change, source, pointer, "case.merged_into")
        record_timeline_entry(change, _case_event_entry(
            change, pointer, f"{source.display_number} merged into {survivor.display_number}",
            survivor_id=survivor.id, merge_id=record.id))
    change.uow.put_merge(record.id, record, expected_state=None, error=_changed_meanwhile)
    change.emit(CaseMerged(case_id=survivor.id, merge_id=record.id, source_ids=record.source_ids,
                           undo_until=record.undo_until), subject=survivor.id)
    change.commit()
    return record


def undo_merge(deps: Deps, request: Request, merge_id: str) -> list[Case]:
    require_staff(request.principal, "undoing a merge")
    record = deps.store.get_merge(merge_id, MergeRecord)
    if record is None:
        raise NotFound(f"merge {merge_id} does not exist")
    if record.state is MergeState.UNDONE:
        raise RuleViolation("this merge has already been undone")
    change = Change(deps, request)
    if change.now > record.undo_until:
        raise RuleViolation(f"merges can be undone for {deps.settings.merge_undo_minutes} minutes; this one "
                            f"was made at {record.merged_at.isoformat()}")
    survivor = _load(deps, request, record.survivor_id)
    restored: list[Case] = []
    removed: set[str] = set()
    for source_id in record.source_ids:
        current = _load(deps, request, source_id)
        if current.merged_into != survivor.id:
            raise RuleViolation(f"case {current.display_number} is no longer merged into the survivor")
        snapshot = record.before[source_id]
        back = snapshot.model_copy(update={"version": current.version + 1, "updated_at": change.now})
        _write_case(change, current, back, "case.unmerged")
        record_timeline_entry(change, _case_event_entry(
            change, back, f"{back.display_number} split off {survivor.display_number} again", merge_id=merge_id))
        removed |= {source_id, *snapshot.merged_from}
        restored.append(back)
    new_survivor = survivor.model_copy(update={
        "merged_from": [c for c in survivor.merged_from if c not in removed],
        "version": survivor.version + 1, "updated_at": change.now})
    _write_case(change, survivor, new_survivor, "case.unmerged")
    change.uow.put_merge(merge_id, record.model_copy(update={"state": MergeState.UNDONE}),
                         expected_state=MergeState.MERGED.value, error=_changed_meanwhile)
    change.emit(CaseUnmerged(case_id=survivor.id, merge_id=merge_id, restored_ids=record.source_ids),
                subject=survivor.id)
    change.commit()
    return [new_survivor, *restored]
