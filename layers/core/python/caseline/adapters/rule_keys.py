"""Key builders for stored rule sets. The only module that writes their key strings.

A rule set is one partition: its order item (`ORDER`) sorts before its rules (`R#<rule id>`), so one Query
returns the order and every rule (docs/data-model.md, "Rules").
"""

from __future__ import annotations

from ..ports.table import Key

DEFAULT_SET = "default"
ORDER_SK = "ORDER"
RULE_PREFIX = "R#"


def rule_set_partition(set_name: str = DEFAULT_SET) -> str:
    return f"RULES#{set_name}"


def rule_order(set_name: str = DEFAULT_SET) -> Key:
    return {"pk": rule_set_partition(set_name), "sk": ORDER_SK}


def rule(rule_id: str, set_name: str = DEFAULT_SET) -> Key:
    return {"pk": rule_set_partition(set_name), "sk": f"{RULE_PREFIX}{rule_id}"}
