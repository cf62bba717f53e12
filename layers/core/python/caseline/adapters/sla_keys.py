"""Key builders for SLA policies and team calendars. The only module that writes their key strings."""

from __future__ import annotations

from ..ports.table import Key

SLA_POLICIES = "SLAPOLICIES"  # gsi1 partition: every policy, by id
POLICY_ENTITY = "sla_policy"
CALENDAR_ENTITY = "team_calendar"


def sla_policy(policy_id: str) -> Key:
    return {"pk": f"SLAPOLICY#{policy_id}", "sk": "SLAPOLICY"}


def team_calendar(team_id: str) -> Key:
    return {"pk": f"TEAMCAL#{team_id}", "sk": "TEAMCAL"}
