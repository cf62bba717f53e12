"""Merging duplicate cases, and undoing it."""

from __future__ import annotations

from enum import StrEnum

from .case import Case
from .common import Model, Timestamp
from .ids import CaseId, Ulid


class MergeState(StrEnum):
    MERGED = "merged"
    UNDONE = "undone"


class MergeRecord(Model):
    """Everything needed to undo a merge exactly: the cases as they were just before it."""

    id: Ulid
    survivor_id: CaseId
    source_ids: list[CaseId]
    before: dict[CaseId, Case]
    merged_at: Timestamp
    undo_until: Timestamp
    actor_id: str
    state: MergeState = MergeState.MERGED
