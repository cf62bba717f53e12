"""Key builders for the single table. The only module that writes key strings.

The item layout and every access pattern are tabled in docs/data-model.md.

The customer partition is ordered so that one descending Query returns, in this order: the profile
(S#PROFILE), the counters (S#COUNTS), the open-case refs (R#...), then the timeline newest first (E#...).
"""

from __future__ import annotations

from datetime import datetime

from ..ports.table import Key

NO_OWNER = "-"  # stands in for "no team" / "no assignee" in queue keys
END_OF_TIME = "9999-12-31T23:59:59Z"


def _key(pk: str, sk: str) -> Key:
    return {"pk": pk, "sk": sk}


# cases --------------------------------------------------------------------------------------------------
def case(case_id: str) -> Key:
    return _key(f"CASE#{case_id}", "CASE")


def case_partition(case_id: str) -> str:
    return f"CASE#{case_id}"


def interaction(case_id: str, interaction_id: str) -> Key:
    return _key(f"CASE#{case_id}", f"M#{interaction_id}")


INTERACTION_PREFIX = "M#"


def provider_message(provider: str, message_id: str) -> Key:
    """An outbound message's provider id → its case and interaction (SES feedback names only its own id)."""
    return _key(f"{provider.upper()}MSG#{message_id}", "MSG")


def case_number(number: int) -> Key:
    return _key(f"CASENO#{number}", "CASENO")


def queue_sort(priority_rank: int, due_at: datetime | None, case_id: str) -> str:
    due = due_at.strftime("%Y-%m-%dT%H:%M:%SZ") if due_at else END_OF_TIME
    return f"{priority_rank}#{due}#{case_id}"


def team_queue(team_id: str | None, status: str) -> str:
    return f"TEAMQ#{team_id or NO_OWNER}#{status}"


def assignee_queue(agent_id: str, status: str) -> str:
    return f"AGENTQ#{agent_id}#{status}"


def unassigned_queue(team_id: str | None, status: str) -> str:
    return f"UNASSIGNEDQ#{team_id or NO_OWNER}#{status}"


def status_queue(status: str) -> str:
    return f"STATUSQ#{status}"


DUE_QUEUE = "DUEQ"  # active cases that have an SLA due time, soonest first


def due_sort(due_at: datetime, priority_rank: int, case_id: str) -> str:
    return f"{due_at.strftime('%Y-%m-%dT%H:%M:%SZ')}#{priority_rank}#{case_id}"


def due_bound(when: datetime) -> str:
    """The highest due-queue sort key at or before `when`."""
    return f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')}#~"


def queue_counter(scope: str) -> Key:
    """Live case counts per status for one queue scope: AGENT#<id>, UNASSIGNED#<team>, TEAM#<team>, ALL."""
    return _key(f"QCOUNT#{scope}", "QCOUNT")


def saved_view(agent_id: str, view_id: str) -> Key:
    return _key(f"AGENT#{agent_id}", f"V#{view_id}")


def agent_partition(agent_id: str) -> str:
    return f"AGENT#{agent_id}"


SAVED_VIEW_PREFIX = "V#"


def merge(merge_id: str) -> Key:
    return _key(f"MERGE#{merge_id}", "MERGE")


def requester_queue(customer_id: str) -> str:
    return f"REQ#{customer_id}"


# customers ----------------------------------------------------------------------------------------------
def customer_partition(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def customer(customer_id: str) -> Key:
    return _key(customer_partition(customer_id), "S#PROFILE")


def customer_counters(customer_id: str) -> Key:
    return _key(customer_partition(customer_id), "S#COUNTS")


PROFILE_SK = "S#PROFILE"
COUNTERS_SK = "S#COUNTS"
OPEN_REF_PREFIX = "R#"
TIMELINE_PREFIX = "E#"
CUSTOMER_LIST = "CUSTOMERS"


def open_case_ref(customer_id: str, case_id: str) -> Key:
    return _key(customer_partition(customer_id), f"{OPEN_REF_PREFIX}{case_id}")


def timeline_entry(customer_id: str, entry_id: str) -> Key:
    return _key(customer_partition(customer_id), f"{TIMELINE_PREFIX}{entry_id}")


def timeline_by_kind(customer_id: str, kind: str) -> str:
    return f"TLK#{customer_id}#{kind}"


def timeline_by_channel(customer_id: str, channel: str) -> str:
    return f"TLC#{customer_id}#{channel}"


def identity(kind: str, value: str) -> Key:
    return _key(f"IDENT#{kind}#{value}", "IDENT")


def external_event(source: str, external_id: str) -> Key:
    return _key(f"EXT#{source}#{external_id}", "EXT")


# staff --------------------------------------------------------------------------------------------------
def agent(agent_id: str) -> Key:
    return _key(f"AGENT#{agent_id}", "S#PROFILE")


def team(team_id: str) -> Key:
    return _key(f"TEAM#{team_id}", "S#PROFILE")


AGENT_LIST = "AGENTS"
TEAM_LIST = "TEAMS"


def listing_sort(name: str, item_id: str) -> str:
    return f"{name.casefold()[:60]}#{item_id}"


# audit --------------------------------------------------------------------------------------------------
def audit_partition(target_type: str, target_id: str) -> str:
    return f"AUDIT#{target_type}#{target_id}"


def audit_record(target_type: str, target_id: str, seq: int) -> Key:
    return _key(audit_partition(target_type, target_id), f"R#{seq:010d}")


def audit_head(target_type: str, target_id: str) -> Key:
    return _key(audit_partition(target_type, target_id), "HEAD")


AUDIT_RECORD_PREFIX = "R#"


# events -------------------------------------------------------------------------------------------------
def outbox(event_id: str) -> Key:
    return _key(f"OUTBOX#{event_id}", "EVENT")


def counter(name: str) -> Key:
    return _key(f"COUNTER#{name}", "COUNTER")


def consumer_marker(consumer: str, event_id: str) -> Key:
    return _key(f"DONE#{consumer}#{event_id}", "DONE")


def dead_letter(consumer: str, event_id: str) -> Key:
    return _key(f"DLQ#{consumer}", event_id)


DEAD_LETTER_LIST = "DLQ"
