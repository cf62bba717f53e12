"""Audit verification: walks every hash chain and compares it with the head its target stores."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..adapters.store import Store
from ..domain.audit import ChainBreak, verify_chain


@dataclass
class VerifyReport:
    chains: int = 0
    records: int = 0
    problems: list[ChainBreak] = field(default_factory=list)


def verify_all(store: Store) -> VerifyReport:
    report = VerifyReport()
    for (target_type, target_id), records, (head_seq, head_hash) in store.all_audit_chains():
        report.chains += 1
        report.records += len(records)
        found = verify_chain(records, head_hash=head_hash, head_seq=head_seq)
        for problem in found:
            report.problems.append(problem.model_copy(update={"target_type": target_type, "target_id": target_id}))
    return report
