"""Rule reads and the rules consumer on DynamoDB (moto): a rule set is one Query however many rules it holds,
and nothing on the way ever scans."""

from __future__ import annotations

from caseline import bootstrap
from caseline.automation.rules import Rule
from caseline.consumers.rules import rules_consumer
from caseline.domain.auth import Principal, Role
from caseline.domain.events import CaseOpened, EventEnvelope
from caseline.services import rules
from caseline.services.cases import open_case
from caseline.services.commands import CustomerRef, OpenCase
from caseline.services.context import Request

from ..conftest import _dynamodb_platform, make_world
from ..support.aws_calls import count_dynamodb_calls

ADMIN = Request(principal=Principal(subject="admin", role=Role.ADMIN, name="Admin"), request_id="costs")


def test_listing_100_rules_is_one_query_and_running_them_never_scans(aws, clock) -> None:
    platform = _dynamodb_platform(clock)
    bootstrap.use(platform)
    try:
        world = make_world(platform)
        deps = platform.deps
        rules.install_defaults(deps)
        rules.set_rule_enabled(deps, ADMIN, "no-agent-response-escalate", False)  # no scheduler on moto here
        for n in range(97):
            rules.create_rule(deps, ADMIN, Rule.model_validate({
                "id": f"tag-{n}", "name": f"Tag {n}", "triggers": ["case_opened"],
                "when": {"op": "contains_any", "field": "case.subject", "keywords": [f"word{n}"]},
                "actions": [{"type": "add_tags", "tags": [f"t{n}"]}]}))
        with count_dynamodb_calls(platform.table.client) as calls:
            listing = rules.list_rules(deps, ADMIN)
        assert len(listing.items) == 100
        assert list(calls) == ["Query"]

        case = open_case(deps, world.staff(world.agent), OpenCase(
            channel="email", subject="About billing and word7", text="Hello",
            requester=CustomerRef(customer_id=world.alice_id)))
        opened = next(EventEnvelope.model_validate_json(i["data"]) for i in platform.table.scan()
                      if i.get("event_type") == CaseOpened.event_type)
        with count_dynamodb_calls(platform.table.client) as calls:
            rules_consumer.handle(deps, opened)
        assert "Scan" not in calls
        changed = deps.store.get_case(case.id)
        assert changed.team_id == world.billing.id and {"billing", "t7"} <= set(changed.tags)
    finally:
        bootstrap.use(None)
