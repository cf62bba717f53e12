"""Key builders for routing's items in the single table: the agent pool, the case-to-holder refs and the
routing policy. Kept apart from `keys.py` the way `connection_keys.py` is; docs/data-model.md tables them."""

from __future__ import annotations

from ..ports.table import Key

AGENT_POOL = "AGENTPOOL"  # one partition: every agent's load, read with one Query per routing decision


def agent_load(agent_id: str) -> Key:
    return {"pk": AGENT_POOL, "sk": agent_id}


def round_robin(team_id: str | None) -> Key:
    """The team's last round-robin pick; sorts after every agent id in the pool partition."""
    return {"pk": AGENT_POOL, "sk": f"~RR#{team_id or '-'}"}


def case_holder(case_id: str) -> Key:
    """Which agent a case is counted against, and the case version that was read to decide it."""
    return {"pk": f"LOADREF#{case_id}", "sk": "LOADREF"}


def routing_policy() -> Key:
    return {"pk": "CONFIG#routing", "sk": "POLICY"}
