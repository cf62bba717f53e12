"""Skills-based routing: eligibility, tie-breaking, round robin, tier routes, overflow and offline agents."""

from __future__ import annotations

import datetime as dt

import pytest
from caseline.automation.routing import (
    AgentPool,
    AgentSnapshot,
    OverflowRule,
    RoutingCase,
    RoutingMethod,
    RoutingOutcome,
    RoutingPolicy,
    TierRoute,
    reroute_unavailable,
    route,
)
from caseline.domain.agents import Availability
from caseline.domain.case import Priority
from caseline.domain.customer import CustomerTier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from .builders import T0, agent, case, ulid

SUPPORT, BILLING, VIP_DESK = ulid(1, "01T"), ulid(2, "01T"), ulid(3, "01T")
POLICY = RoutingPolicy(category_skills={"billing": "billing", "hardware": "hardware"})


def snap(n: int, *, load: int = 0, last: dt.datetime | None = None, since: dt.datetime | None = None,
         **kwargs) -> AgentSnapshot:
    return AgentSnapshot(agent=agent(n, **kwargs), open_cases=load, last_assigned_at=last, availability_since=since)


def work(n: int = 1, **kwargs) -> RoutingCase:
    kwargs.setdefault("team_id", SUPPORT)
    return RoutingCase(case_id=ulid(n, "01C"), waiting_since=T0, **kwargs)


def a(n: int) -> str:
    return ulid(n, "01A")


def test_the_least_loaded_agent_with_the_skill_and_language_gets_the_case() -> None:
    pool = AgentPool([
        snap(1, team=SUPPORT, skills=("billing",), languages=("en",), load=0),  # no German
        snap(2, team=SUPPORT, skills=("billing",), languages=("de", "en"), load=3),
        snap(3, team=SUPPORT, skills=("billing",), languages=("de",), load=1),
        snap(4, team=SUPPORT, skills=(), languages=("de",), load=0),  # no skill
        snap(5, team=SUPPORT, skills=("billing",), languages=("de",), load=0, online=False),
        snap(6, team=SUPPORT, skills=("billing",), languages=("de",), load=10),  # full
        snap(7, team=BILLING, skills=("billing",), languages=("de",), load=0),  # other team
    ])
    decision = route(work(category="billing", language="de-AT"), pool, POLICY, T0)
    assert decision.outcome == RoutingOutcome.ASSIGNED and decision.method == RoutingMethod.SKILLS
    assert decision.agent_id == a(3) and decision.team_id == SUPPORT
    assert decision.reasons[0] == "category billing needs skill billing"
    assert decision.reasons[-1].endswith("left out: 1 at capacity, 1 not online, 1 not speaking de, "
                                         "1 without skill billing")


def test_ties_go_to_the_agent_idle_longest_then_never_assigned() -> None:
    pool = AgentPool([snap(1, team=SUPPORT, last=T0 - dt.timedelta(minutes=5)),
                      snap(2, team=SUPPORT, last=T0 - dt.timedelta(minutes=50)),
                      snap(3, team=SUPPORT, load=1)])
    assert route(work(), pool, POLICY, T0).agent_id == a(2)
    pool = AgentPool([snap(1, team=SUPPORT, last=T0), snap(2, team=SUPPORT, last=None)])
    assert route(work(), pool, POLICY, T0).agent_id == a(2)


def test_recording_decisions_spreads_the_work() -> None:
    pool = AgentPool([snap(n, team=SUPPORT, capacity=2) for n in (1, 2, 3)])
    chosen = []
    for n in range(6):
        decision = route(work(n), pool, POLICY, T0 + dt.timedelta(minutes=n))
        pool.record(decision, T0 + dt.timedelta(minutes=n))
        chosen.append(decision.agent_id)
    assert chosen == [a(1), a(2), a(3), a(1), a(2), a(3)]
    assert [pool.load(a(n)) for n in (1, 2, 3)] == [2, 2, 2]
    full = route(work(7), pool, RoutingPolicy(round_robin_fallback=False), T0)
    assert full.outcome == RoutingOutcome.QUEUED and full.agent_id is None
    assert "3 at capacity" in full.reasons[-2]
    pool.release(a(2))
    assert route(work(8), pool, POLICY, T0).agent_id == a(2)


def test_round_robin_takes_over_when_nobody_has_the_skill() -> None:
    pool = AgentPool([snap(n, team=SUPPORT, load=n) for n in (1, 2, 3)] + [snap(4, team=SUPPORT, online=False)])
    picks = []
    for n in range(4):
        decision = route(work(n, category="hardware"), pool, POLICY, T0)
        assert decision.method == RoutingMethod.ROUND_ROBIN
        pool.record(decision, T0)
        picks.append(decision.agent_id)
    assert picks == [a(1), a(2), a(3), a(1)]  # in turn, skipping the offline agent, regardless of load
    assert "nobody fits (1 not online, 3 without skill hardware)" in decision.reasons[-2]
    off = route(work(9, category="hardware"), pool, RoutingPolicy(category_skills=POLICY.category_skills,
                                                                   round_robin_fallback=False), T0)
    assert off.outcome == RoutingOutcome.QUEUED


def test_vip_cases_take_the_vip_route_and_fall_back_unless_strict() -> None:
    pool = AgentPool([snap(1, team=SUPPORT), snap(2, team=VIP_DESK, skills=("vip",), load=4),
                      snap(3, team=SUPPORT, skills=("vip",), load=2)])
    desk = RoutingPolicy(tier_routes=[TierRoute(tier=CustomerTier.VIP, team_id=VIP_DESK)])
    decision = route(work(tier=CustomerTier.VIP), pool, desk, T0)
    assert decision.agent_id == a(2) and decision.team_id == VIP_DESK
    assert decision.reasons[-1].startswith("vip route: team")
    skill = RoutingPolicy(tier_routes=[TierRoute(tier=CustomerTier.VIP, skill="vip")])
    assert route(work(tier=CustomerTier.VIP), pool, skill, T0).agent_id == a(3)  # in Support, with the skill
    assert route(work(tier=CustomerTier.STANDARD), pool, skill, T0).agent_id == a(1)

    busy = AgentPool([snap(1, team=SUPPORT), snap(2, team=VIP_DESK, online=False)])
    fallback = route(work(tier=CustomerTier.VIP), busy, desk, T0)
    assert fallback.agent_id == a(1) and "vip route found nobody (1 not online)" in fallback.reasons
    strict = RoutingPolicy(tier_routes=[TierRoute(tier=CustomerTier.VIP, team_id=VIP_DESK, strict=True)])
    waiting = route(work(tier=CustomerTier.VIP), busy, strict, T0)
    assert waiting.outcome == RoutingOutcome.QUEUED and waiting.team_id == VIP_DESK


def test_overflow_after_the_wait_and_a_recheck_before_it() -> None:
    pool = AgentPool([snap(1, team=SUPPORT, online=False), snap(2, team=BILLING, load=1)])
    policy = RoutingPolicy(overflow=[OverflowRule(from_team_id=SUPPORT, to_team_id=BILLING, after_minutes=15)])
    early = route(work(), pool, policy, T0 + dt.timedelta(minutes=14))
    assert early.outcome == RoutingOutcome.QUEUED and early.recheck_at == T0 + dt.timedelta(minutes=15)
    late = route(work(), pool, policy, early.recheck_at)
    assert late.outcome == RoutingOutcome.OVERFLOWED and late.agent_id == a(2) and late.team_id == BILLING
    assert any("overflow to team" in r for r in late.reasons)


def test_an_offline_agent_keeps_cases_for_the_grace_period_then_they_move() -> None:
    went_offline = T0
    pool = AgentPool([snap(1, team=SUPPORT, online=False, since=went_offline, load=2),
                      snap(2, team=SUPPORT, load=0), snap(3, team=SUPPORT, load=1)])
    held = [work(1, priority=Priority.LOW), work(2, priority=Priority.URGENT)]
    wait = reroute_unavailable(a(1), held, pool, POLICY, went_offline + dt.timedelta(minutes=5))
    assert not wait.reroute and wait.recheck_at == went_offline + dt.timedelta(minutes=10)
    moved = reroute_unavailable(a(1), held, pool, POLICY, wait.recheck_at)
    assert moved.reroute
    # The urgent case first, to the emptiest agent; then a tie at one case each goes to the one idle longer.
    assert [(d.case_id, d.agent_id) for d in moved.decisions] == [(ulid(2, "01C"), a(2)), (ulid(1, "01C"), a(3))]
    assert pool.load(a(2)) == 0  # routing never changes the caller's pool
    online = AgentPool([snap(1, team=SUPPORT)])
    assert not reroute_unavailable(a(1), held, online, POLICY, T0).reroute


def test_a_case_being_moved_never_goes_back_to_the_same_agent() -> None:
    pool = AgentPool([snap(1, team=SUPPORT)])
    decision = route(work(), pool, POLICY, T0, exclude=a(1))
    assert decision.outcome == RoutingOutcome.QUEUED
    assert "1 being rerouted from" in decision.reasons[-3]


def test_routing_case_from_a_domain_case() -> None:
    routed = RoutingCase.from_case(case(team_id=SUPPORT, category="billing", language="de"), tier=CustomerTier.VIP)
    assert (routed.team_id, routed.category, routed.language, routed.tier, routed.waiting_since) == \
        (SUPPORT, "billing", "de", CustomerTier.VIP, T0)


@pytest.mark.parametrize(("data", "message"), [
    ({"tier_routes": [{"tier": "vip"}]}, "names a team, a skill or both"),
    ({"tier_routes": [{"tier": "vip", "skill": "a"}, {"tier": "vip", "skill": "b"}]}, "one route per tier"),
    ({"overflow": [{"from_team_id": SUPPORT, "to_team_id": SUPPORT, "after_minutes": 5}]}, "into itself"),
    ({"overflow": [{"from_team_id": SUPPORT, "to_team_id": BILLING, "after_minutes": 0}]}, "greater than or equal"),
])
def test_invalid_policies_are_refused(data: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RoutingPolicy.model_validate(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 12), st.booleans(), st.sets(st.sampled_from(["billing", "hardware"])),
                          st.sets(st.sampled_from(["en", "de", "fr"]), min_size=1), st.integers(0, 600)),
                min_size=1, max_size=15),
       st.sampled_from([None, "billing", "hardware"]), st.sampled_from([None, "en", "de", "fr"]))
def test_a_skills_decision_is_eligible_and_no_eligible_agent_is_better(agents, category, language) -> None:
    snapshots = [AgentSnapshot(agent=agent(n, team=SUPPORT, skills=tuple(skills), languages=tuple(langs),
                                           capacity=10, online=online),
                               open_cases=load, last_assigned_at=T0 - dt.timedelta(minutes=idle))
                 for n, (load, online, skills, langs, idle) in enumerate(agents)]
    decision = route(work(category=category, language=language), AgentPool(snapshots), POLICY, T0)

    def eligible(s: AgentSnapshot) -> bool:
        return (s.agent.availability == Availability.ONLINE and s.open_cases < s.agent.capacity
                and (category is None or category in s.agent.skills)
                and (language is None or language in s.agent.languages))

    fits = [s for s in snapshots if eligible(s)]
    if not fits:
        assert decision.method != RoutingMethod.SKILLS
        return
    chosen = next(s for s in snapshots if s.agent.id == decision.agent_id)
    assert decision.method == RoutingMethod.SKILLS and eligible(chosen)
    assert all((chosen.open_cases, chosen.last_assigned_at) <= (s.open_cases, s.last_assigned_at) for s in fits)
