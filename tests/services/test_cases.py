"""Case commands and queries, on both storage adapters."""

from __future__ import annotations

import pytest
from caseline.domain.case import CaseStatus, Priority
from caseline.domain.common import Channel
from caseline.domain.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    PreconditionRequired,
    RuleViolation,
    VersionConflict,
)
from caseline.domain.interaction import Direction, Visibility
from caseline.services import cases
from caseline.services.commands import AddNote, AddReply, AssignCase, CustomerRef, OpenCase, UpdateCase
from caseline.services.customers import customer_360

from ..conftest import World


def _open(platform, world: World, **overrides):
    command = OpenCase(channel=Channel.EMAIL, subject="Invoice is wrong", text="I was charged twice.",
                       requester=CustomerRef(email="alice@example.com"), **overrides)
    return cases.open_case(platform.deps, world.staff(world.agent), command)


def test_open_case_finds_the_customer_by_email_and_numbers_cases(platform, world: World) -> None:
    first = _open(platform, world)
    second = _open(platform, world, priority=Priority.HIGH)
    assert first.requester_id == world.alice_id
    assert first.number >= 10_001 and second.number == first.number + 1
    assert first.status is CaseStatus.NEW and first.version == 1
    detail = cases.get_case(platform.deps, world.staff(world.agent), first.id, limit=50, cursor=None)
    assert [i.text for i in detail.interactions.items] == ["I was charged twice."]
    assert detail.interactions.items[0].direction is Direction.INBOUND


def test_open_case_creates_an_unknown_customer_once(platform, world: World) -> None:
    command = OpenCase(channel=Channel.PHONE, subject="Call", text="Caller wants a refund",
                       requester=CustomerRef(phone="+441234567890", name="Carol Caller"))
    a = cases.open_case(platform.deps, world.staff(world.agent), command)
    b = cases.open_case(platform.deps, world.staff(world.agent), command)
    assert a.requester_id == b.requester_id != world.alice_id
    view = customer_360(platform.deps, world.staff(world.agent), a.requester_id, page_size=10)
    assert view.customer.name == "Carol Caller" and view.customer.phones == ["+441234567890"]
    assert {ref.case_id for ref in view.open_cases} == {a.id, b.id}
    assert view.counts["cases_total"] == 2


def test_reply_note_and_status_flow(platform, world: World) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    reply = cases.add_reply(platform.deps, agent, case.id, AddReply(text="Refund is on its way.",
                                                                    status=CaseStatus.PENDING))
    assert reply.direction is Direction.OUTBOUND and reply.visibility is Visibility.PUBLIC
    note = cases.add_note(platform.deps, agent, case.id, AddNote(text="@sue please approve the refund"))
    assert note.mentions == [world.supervisor.id] and note.visibility is Visibility.INTERNAL
    after = cases.get_case(platform.deps, agent, case.id, limit=50, cursor=None).case
    assert after.status is CaseStatus.PENDING and after.first_response_at is not None
    # The customer answers: a pending case opens again and the customer sees no internal note.
    cases.add_reply(platform.deps, world.customer(world.alice_id), case.id, AddReply(text="Thanks!"))
    seen = cases.get_case(platform.deps, world.customer(world.alice_id), case.id, limit=50, cursor=None)
    assert seen.case.status is CaseStatus.OPEN
    assert [i.visibility for i in seen.interactions.items] == [Visibility.PUBLIC] * 3


def test_unknown_mention_is_refused(platform, world: World) -> None:
    case = _open(platform, world)
    with pytest.raises(RuleViolation, match="@nobody"):
        cases.add_note(platform.deps, world.staff(world.agent), case.id, AddNote(text="ask @nobody"))


def test_update_needs_the_current_version_and_a_stale_one_changes_nothing(platform, world: World) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    with pytest.raises(PreconditionRequired):
        cases.update_case(platform.deps, agent, case.id, UpdateCase(priority=Priority.URGENT), expected_version=None)
    updated = cases.update_case(platform.deps, agent, case.id, UpdateCase(priority=Priority.URGENT, tags=["vip"]),
                                expected_version=1)
    assert updated.version == 2 and updated.priority is Priority.URGENT
    with pytest.raises(VersionConflict) as conflict:
        cases.update_case(platform.deps, agent, case.id, UpdateCase(priority=Priority.LOW), expected_version=1)
    assert conflict.value.current_version == 2
    stored = platform.deps.store.get_case(case.id)
    assert stored.priority is Priority.URGENT and stored.version == 2


def test_status_transitions_follow_the_lifecycle(platform, world: World) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    solved = cases.update_case(platform.deps, agent, case.id, UpdateCase(status=CaseStatus.SOLVED), expected_version=1)
    closed = cases.update_case(platform.deps, agent, case.id, UpdateCase(status=CaseStatus.CLOSED),
                               expected_version=solved.version)
    with pytest.raises(InvalidTransition):
        cases.update_case(platform.deps, agent, case.id, UpdateCase(status=CaseStatus.OPEN),
                          expected_version=closed.version)
    with pytest.raises(RuleViolation):
        cases.add_reply(platform.deps, agent, case.id, AddReply(text="too late"))


def test_reopen_a_solved_case(platform, world: World) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    cases.update_case(platform.deps, agent, case.id, UpdateCase(status=CaseStatus.SOLVED), expected_version=1)
    reopened = cases.reopen_case(platform.deps, world.customer(world.alice_id), case.id)
    assert reopened.status is CaseStatus.OPEN and reopened.solved_at is None
    view = customer_360(platform.deps, agent, world.alice_id, page_size=5)
    assert [ref.status for ref in view.open_cases] == ["open"]


def test_assignment_moves_the_case_between_queues(platform, world: World) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    cases.assign_case(platform.deps, agent, case.id, AssignCase(assignee_id=world.other_agent.id,
                                                                team_id=world.billing.id))
    mine = cases.assignee_queue(platform.deps, agent, world.other_agent.id, CaseStatus.NEW, limit=10, cursor=None)
    unassigned = cases.assignee_queue(platform.deps, agent, None, CaseStatus.NEW, limit=10, cursor=None)
    team = cases.team_queue(platform.deps, agent, world.billing.id, CaseStatus.NEW, limit=10, cursor=None)
    assert [c.id for c in mine.items] == [case.id] == [c.id for c in team.items]
    assert case.id not in {c.id for c in unassigned.items}


def test_queues_sort_by_priority_then_due_time_and_page(platform, world: World) -> None:
    agent = world.staff(world.agent)
    made = {p: _open(platform, world, priority=p, team_id=world.tech.id) for p in Priority}
    page1 = cases.team_queue(platform.deps, agent, world.tech.id, CaseStatus.NEW, limit=2, cursor=None)
    page2 = cases.team_queue(platform.deps, agent, world.tech.id, CaseStatus.NEW, limit=2, cursor=page1.cursor)
    order = [c.priority for c in page1.items + page2.items]
    assert order == [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]
    assert {c.id for c in page1.items + page2.items} == {c.id for c in made.values()}


def test_customers_cannot_see_or_touch_other_customers_cases(platform, world: World) -> None:
    case = _open(platform, world)
    bob = world.customer(world.bob_id)
    with pytest.raises(NotFound):
        cases.get_case(platform.deps, bob, case.id, limit=10, cursor=None)
    with pytest.raises(NotFound):
        cases.add_reply(platform.deps, bob, case.id, AddReply(text="mine now"))
    with pytest.raises(Forbidden):
        cases.add_note(platform.deps, bob, case.id, AddNote(text="hi"))


def test_customer_opens_own_case_from_the_portal(platform, world: World) -> None:
    alice = world.customer(world.alice_id)
    case = cases.open_case(platform.deps, alice, OpenCase(channel=Channel.WEB, subject="Login", text="Can't log in"))
    assert case.requester_id == world.alice_id
    with pytest.raises(Forbidden):
        cases.open_case(platform.deps, alice, OpenCase(channel=Channel.WEB, subject="x", text="y",
                                                       requester=CustomerRef(customer_id=world.bob_id)))
