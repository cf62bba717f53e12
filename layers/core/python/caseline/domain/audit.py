"""Tamper-evident audit records.

Each audited thing (a case, a customer, an agent) has its own hash chain: record n carries the hash of
record n-1, and the thing itself stores the hash and length of its chain. Editing a record breaks its
hash; deleting one breaks the link of the next, or — for the newest — the head stored on the thing.
Chaining per thing rather than globally keeps the write path free of a global lock: the thing's own
version check already serialises its writes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import Field

from .common import Model, Timestamp
from .ids import Ulid

GENESIS = "0" * 64


class FieldChange(Model):
    before: Any = None
    after: Any = None


class AuditRecord(Model):
    id: Ulid
    seq: int = Field(ge=1)
    target_type: str
    target_id: str
    actor_id: str
    actor_role: str
    action: str = Field(examples=["case.status_changed"])
    changes: dict[str, FieldChange] = Field(default_factory=dict)
    request_id: str
    time: Timestamp
    prev_hash: str
    hash: str = ""

    def compute_hash(self) -> str:
        body = self.model_dump(mode="json", exclude={"hash"})
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def sealed(self) -> AuditRecord:
        return self.model_copy(update={"hash": self.compute_hash()})


def diff(before: dict[str, Any], after: dict[str, Any], *, ignore: frozenset[str] = frozenset()) -> dict:
    """Field-level before/after of two JSON-shaped dicts."""
    changes: dict[str, FieldChange] = {}
    for key in sorted(set(before) | set(after)):
        if key in ignore:
            continue
        if before.get(key) != after.get(key):
            changes[key] = FieldChange(before=before.get(key), after=after.get(key))
    return changes


class ChainBreak(Model):
    target_type: str
    target_id: str
    seq: int
    problem: str


def verify_chain(records: list[AuditRecord], *, head_hash: str, head_seq: int) -> list[ChainBreak]:
    """Check one chain (records in seq order) against the head its target stores."""
    problems: list[ChainBreak] = []
    prev = GENESIS
    target = (records[0].target_type, records[0].target_id) if records else ("", "")

    def broken(seq: int, problem: str) -> None:
        problems.append(ChainBreak(target_type=target[0], target_id=target[1], seq=seq, problem=problem))

    for expected_seq, record in enumerate(records, start=1):
        if record.seq != expected_seq:
            broken(expected_seq, f"record {expected_seq} is missing (found {record.seq})")
            prev = record.hash
            continue
        if record.prev_hash != prev:
            broken(record.seq, "link to the previous record does not match")
        if record.compute_hash() != record.hash:
            broken(record.seq, "record content does not match its hash")
        prev = record.hash
    if len(records) != head_seq or (records and records[-1].hash != head_hash):
        broken(head_seq, f"chain holds {len(records)} records but its head says {head_seq}")
    return problems
