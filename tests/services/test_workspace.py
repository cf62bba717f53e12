"""Queue views, saved views, bulk updates and merges, on both storage adapters."""

from __future__ import annotations

import pytest
from caseline.domain.case import CaseStatus, Priority
from caseline.domain.common import Channel
from caseline.domain.errors import Forbidden, NotFound, RuleViolation
from caseline.domain.views import ViewFilters, ViewId
from caseline.services import bulk, cases, merges, views
from caseline.services.commands import (
    AddReply,
    AssignCase,
    BulkChanges,
    BulkUpdate,
    CustomerRef,
    MergeCases,
    OpenCase,
    UpdateCase,
)

from ..conftest import World


def _open(platform, world: World, subject: str = "Invoice is wrong", **overrides):
    command = OpenCase(channel=overrides.pop("channel", Channel.EMAIL), subject=subject, text=f"About: {subject}",
                       requester=CustomerRef(email="alice@example.com"), **overrides)
    return cases.open_case(platform.deps, world.staff(world.agent), command)


def _counts(platform, world: World, who=None) -> dict[ViewId, int]:
    request = world.staff(who or world.agent)
    return {c.id: c.count for c in views.view_counts(platform.deps, request)}


def _ids(platform, world: World, view: ViewId, **filters) -> list[str]:
    page = views.view_cases(platform.deps, world.staff(world.agent), view, limit=50, cursor=None,
                            filters=ViewFilters(**filters))
    return [c.id for c in page.items]


def test_view_counts_follow_every_case_write(platform, world: World) -> None:
    before = _counts(platform, world)
    first = _open(platform, world)
    second = _open(platform, world, team_id=world.billing.id)
    after_open = _counts(platform, world)
    assert after_open[ViewId.ALL_OPEN] == before[ViewId.ALL_OPEN] + 2
    assert after_open[ViewId.TEAM_UNASSIGNED] == before[ViewId.TEAM_UNASSIGNED] + 1

    cases.assign_case(platform.deps, world.staff(world.agent), second.id,
                      AssignCase(assignee_id=world.agent.id), expected_version=None)
    cases.update_case(platform.deps, world.staff(world.agent), first.id,
                      UpdateCase(status=CaseStatus.PENDING), expected_version=1)
    now = _counts(platform, world)
    assert now[ViewId.MINE] == before[ViewId.MINE] + 1
    assert now[ViewId.TEAM_UNASSIGNED] == before[ViewId.TEAM_UNASSIGNED]
    assert now[ViewId.PENDING] == before[ViewId.PENDING] + 1
    assert now[ViewId.ALL_OPEN] == before[ViewId.ALL_OPEN] + 1
    # the view lists agree with the counters
    assert _ids(platform, world, ViewId.MINE) == [second.id]
    assert _ids(platform, world, ViewId.PENDING) == [first.id]


def test_views_put_the_most_urgent_first_and_filter(platform, world: World) -> None:
    low = _open(platform, world, "Low", priority=Priority.LOW)
    urgent = _open(platform, world, "Urgent", priority=Priority.URGENT, channel=Channel.PHONE)
    normal = _open(platform, world, "Normal")
    assert _ids(platform, world, ViewId.ALL_OPEN) == [urgent.id, normal.id, low.id]
    assert _ids(platform, world, ViewId.ALL_OPEN, channel=Channel.PHONE) == [urgent.id]
    assert _ids(platform, world, ViewId.ALL_OPEN, priority="low") == [low.id]


def test_customers_have_no_queue_views(platform, world: World) -> None:
    with pytest.raises(Forbidden):
        views.view_counts(platform.deps, world.customer(world.alice_id))


def test_saved_views_belong_to_the_agent_who_saved_them(platform, world: World) -> None:
    mine = views.save_view(platform.deps, world.staff(world.agent), "Urgent phone", ViewId.ALL_OPEN,
                           ViewFilters(channel=Channel.PHONE, priority="urgent"))
    assert [v.id for v in views.saved_views(platform.deps, world.staff(world.agent))] == [mine.id]
    assert views.saved_views(platform.deps, world.staff(world.other_agent)) == []
    with pytest.raises(NotFound):
        views.delete_view(platform.deps, world.staff(world.other_agent), mine.id)
    views.delete_view(platform.deps, world.staff(world.agent), mine.id)
    assert views.saved_views(platform.deps, world.staff(world.agent)) == []


def test_bulk_update_reports_each_case_and_one_failure_stops_nothing(platform, world: World) -> None:
    a, b, c = (_open(platform, world, f"Bulk {n}") for n in range(3))
    cases.update_case(platform.deps, world.staff(world.agent), c.id, UpdateCase(status=CaseStatus.SOLVED),
                      expected_version=1)
    command = BulkUpdate(case_ids=[a.id, b.id, c.id],
                         changes=BulkChanges(status=CaseStatus.PENDING, team_id=world.tech.id, add_tags=["vip"]),
                         versions={b.id: 7})
    outcomes = bulk.bulk_update(platform.deps, world.staff(world.supervisor), command)
    by_id = {o.case_id: o for o in outcomes}
    assert by_id[a.id].case is not None and by_id[a.id].error is None
    assert type(by_id[b.id].error).__name__ == "VersionConflict"
    assert type(by_id[c.id].error).__name__ == "InvalidTransition"  # solved → pending is not a transition

    stored_a = platform.deps.store.get_case(a.id)
    assert (stored_a.status, stored_a.team_id, stored_a.tags, stored_a.version) == (
        CaseStatus.PENDING, world.tech.id, ["vip"], 2)
    assert platform.deps.store.get_case(b.id).version == 1  # untouched
    trail = cases.audit_trail(platform.deps, world.staff(world.supervisor), a.id, limit=10, cursor=None)
    assert "case.bulk_updated" in [r.action for r in trail.items]


def test_bulk_update_unassigns_with_an_explicit_null(platform, world: World) -> None:
    case = _open(platform, world)
    cases.assign_case(platform.deps, world.staff(world.agent), case.id,
                      AssignCase(assignee_id=world.agent.id), expected_version=None)
    changes = BulkChanges.model_validate({"assignee_id": None})
    [outcome] = bulk.bulk_update(platform.deps, world.staff(world.agent),
                                 BulkUpdate(case_ids=[case.id], changes=changes))
    assert outcome.case is not None and outcome.case.assignee_id is None


def test_bulk_update_is_for_staff(platform, world: World) -> None:
    case = _open(platform, world)
    with pytest.raises(Forbidden):
        bulk.bulk_update(platform.deps, world.customer(world.alice_id),
                         BulkUpdate(case_ids=[case.id], changes=BulkChanges(add_tags=["x"])))


def _conversation(platform, world: World, case_id: str) -> list[str]:
    detail = cases.get_case(platform.deps, world.staff(world.agent), case_id, limit=50, cursor=None)
    return [i.text for i in detail.interactions.items]


def test_merge_moves_the_conversation_and_forwards_later_replies(platform, world: World) -> None:
    survivor = _open(platform, world, "Cannot log in")
    duplicate = _open(platform, world, "Login broken")
    before = _counts(platform, world)

    record = merges.merge_cases(platform.deps, world.staff(world.agent), survivor.id,
                                MergeCases(source_ids=[duplicate.id]))
    assert record.survivor_id == survivor.id
    assert _conversation(platform, world, survivor.id) == ["About: Cannot log in", "About: Login broken"]
    pointer = platform.deps.store.get_case(duplicate.id)
    assert pointer.merged_into == survivor.id and not pointer.is_active
    assert _counts(platform, world)[ViewId.ALL_OPEN] == before[ViewId.ALL_OPEN] - 1
    assert duplicate.id not in _ids(platform, world, ViewId.ALL_OPEN)

    cases.add_reply(platform.deps, world.staff(world.agent), duplicate.id, AddReply(text="Fixed now"))
    assert _conversation(platform, world, survivor.id)[-1] == "Fixed now"


def test_undo_restores_both_cases_exactly(platform, world: World) -> None:
    survivor = _open(platform, world, "Survivor", priority=Priority.HIGH)
    source = _open(platform, world, "Source", tags=["dup"])
    record = merges.merge_cases(platform.deps, world.staff(world.agent), survivor.id,
                                MergeCases(source_ids=[source.id]))
    merged_survivor = platform.deps.store.get_case(survivor.id)
    restored_survivor, restored_source = merges.undo_merge(platform.deps, world.staff(world.agent), record.id)

    moving = {"version", "updated_at"}
    for original, now in ((survivor, restored_survivor), (source, restored_source)):
        stored = platform.deps.store.get_case(original.id)
        assert stored.model_dump(exclude=moving) == original.model_dump(exclude=moving)
        assert stored == now
    assert restored_survivor.version == merged_survivor.version + 1  # stale edits from before still get 412
    assert _conversation(platform, world, survivor.id) == ["About: Survivor"]
    assert source.id in _ids(platform, world, ViewId.ALL_OPEN)
    actions = [r.action for r in cases.audit_trail(platform.deps, world.staff(world.supervisor), source.id,
                                                   limit=10, cursor=None).items]
    assert "case.merged_into" in actions and "case.unmerged" in actions
    with pytest.raises(RuleViolation, match="already been undone"):
        merges.undo_merge(platform.deps, world.staff(world.agent), record.id)


def test_undo_closes_when_the_window_has_passed(platform, world: World, clock) -> None:
    survivor, source = _open(platform, world, "A"), _open(platform, world, "B")
    record = merges.merge_cases(platform.deps, world.staff(world.agent), survivor.id,
                                MergeCases(source_ids=[source.id]))
    clock.advance(minutes=platform.deps.settings.merge_undo_minutes + 1)
    with pytest.raises(RuleViolation, match="can be undone for"):
        merges.undo_merge(platform.deps, world.staff(world.agent), record.id)
    assert platform.deps.store.get_case(source.id).merged_into == survivor.id


def test_merge_refuses_itself_and_already_merged_cases(platform, world: World) -> None:
    a, b, c = (_open(platform, world, f"Case {n}") for n in range(3))
    with pytest.raises(RuleViolation, match="into itself"):
        merges.merge_cases(platform.deps, world.staff(world.agent), a.id, MergeCases(source_ids=[a.id]))
    merges.merge_cases(platform.deps, world.staff(world.agent), a.id, MergeCases(source_ids=[b.id]))
    with pytest.raises(RuleViolation, match="already merged"):
        merges.merge_cases(platform.deps, world.staff(world.agent), c.id, MergeCases(source_ids=[b.id]))
    with pytest.raises(Forbidden):
        merges.merge_cases(platform.deps, world.customer(world.alice_id), a.id, MergeCases(source_ids=[c.id]))
