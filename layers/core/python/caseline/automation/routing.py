"""Skills-based routing: which agent gets a case, and why.

The order of preference for a case:

1. its customer tier's route, when the policy has one (e.g. VIP cases to the VIP desk or to agents with the
   `vip` skill); when nobody there can take it, normal routing unless the route is strict;
2. an agent of the case's team who is online, has the skill the case's category needs, speaks the case's
   language and is under capacity: the one with the fewest open cases, then the one idle the longest;
3. round robin over the team's online agents under capacity, whatever their skills (when the policy allows);
4. after the case has waited `after_minutes` unassigned, the same again in the overflow team;
5. otherwise the case waits in the queue, and the decision says when to look again (`recheck_at`).

An agent who goes offline keeps their cases for a grace period; after it, their open cases are routed again.

`route` never changes its inputs. An `AgentPool` holds the loads and the round-robin position; the caller
records a decision in the pool (`pool.record`) when it has been carried out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from caseline.domain.agents import Agent, Availability
from caseline.domain.case import Case, Priority
from caseline.domain.common import Timestamp
from caseline.domain.customer import CustomerTier
from caseline.domain.ids import AgentId, CaseId, LanguageTag, TeamId

from .calendar import AutomationModel

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


class AgentSnapshot(AutomationModel):
    agent: Agent
    open_cases: int = Field(default=0, ge=0)
    last_assigned_at: dt.datetime | None = None
    availability_since: dt.datetime | None = Field(default=None, description="when the current availability began")


class RoutingCase(AutomationModel):
    case_id: CaseId
    team_id: TeamId | None = None
    category: str | None = None
    language: LanguageTag | None = None
    priority: Priority = Priority.NORMAL
    tier: CustomerTier = CustomerTier.STANDARD
    waiting_since: Timestamp = Field(description="unassigned since")

    @classmethod
    def from_case(cls, case: Case, *, tier: CustomerTier = CustomerTier.STANDARD,
                  waiting_since: dt.datetime | None = None) -> RoutingCase:
        return cls(case_id=case.id, team_id=case.team_id, category=case.category, language=case.language,
                   priority=case.priority, tier=tier, waiting_since=waiting_since or case.created_at)


class TierRoute(AutomationModel):
    tier: CustomerTier
    team_id: TeamId | None = Field(default=None, description="route to this team instead of the case's")
    skill: str | None = Field(default=None, description="and require this skill as well", examples=["vip"])
    strict: bool = Field(default=False, description="wait for this route rather than fall back to normal routing")

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if self.team_id is None and self.skill is None:
            raise ValueError("a tier route names a team, a skill or both")
        return self


class OverflowRule(AutomationModel):
    from_team_id: TeamId
    to_team_id: TeamId
    after_minutes: int = Field(ge=1, le=7 * 24 * 60)

    @model_validator(mode="after")
    def _another_team(self) -> Self:
        if self.from_team_id == self.to_team_id:
            raise ValueError("a team cannot overflow into itself")
        return self


class RoutingPolicy(AutomationModel):
    category_skills: dict[str, str] = Field(default_factory=dict, examples=[{"billing": "billing"}])
    tier_routes: list[TierRoute] = Field(default_factory=list)
    overflow: list[OverflowRule] = Field(default_factory=list)
    round_robin_fallback: bool = True
    offline_grace_minutes: int = Field(default=10, ge=0, le=24 * 60)

    @model_validator(mode="after")
    def _one_each(self) -> Self:
        if len({r.tier for r in self.tier_routes}) != len(self.tier_routes):
            raise ValueError("one route per tier")
        if len({r.from_team_id for r in self.overflow}) != len(self.overflow):
            raise ValueError("one overflow rule per team")
        return self

    def tier_route(self, tier: CustomerTier) -> TierRoute | None:
        return next((r for r in self.tier_routes if r.tier == tier), None)

    def overflow_for(self, team_id: str | None) -> OverflowRule | None:
        return next((r for r in self.overflow if r.from_team_id == team_id), None)


class RoutingOutcome(StrEnum):
    ASSIGNED = "assigned"
    OVERFLOWED = "overflowed"  # assigned in the overflow team
    QUEUED = "queued"


class RoutingMethod(StrEnum):
    SKILLS = "skills"
    ROUND_ROBIN = "round_robin"
    NONE = "none"


class RoutingDecision(AutomationModel):
    case_id: CaseId
    outcome: RoutingOutcome
    method: RoutingMethod
    agent_id: AgentId | None = None
    team_id: TeamId | None = None
    reasons: list[str] = Field(default_factory=list)
    recheck_at: dt.datetime | None = Field(default=None, description="route again then if still unassigned")


class OfflineDecision(AutomationModel):
    """What to do with the cases of an agent who is no longer online."""

    agent_id: AgentId
    reroute: bool
    reasons: list[str] = Field(default_factory=list)
    recheck_at: dt.datetime | None = Field(default=None, description="when the grace period ends")
    decisions: list[RoutingDecision] = Field(default_factory=list)


def _primary(language: str) -> str:
    return language.split("-", 1)[0].lower()


class _Candidate:
    """An agent as routing sees it; kept apart from the pydantic snapshot so choosing is cheap."""

    __slots__ = ("capacity", "id", "languages", "online", "skills", "teams")

    def __init__(self, snapshot: AgentSnapshot) -> None:
        agent = snapshot.agent
        self.id = agent.id
        self.online = agent.availability == Availability.ONLINE
        self.skills = frozenset(s.casefold() for s in agent.skills)
        self.languages = frozenset(_primary(tag) for tag in agent.languages)
        self.capacity = agent.capacity
        self.teams = tuple(agent.team_ids)


class AgentPool:
    """Agents with their current load, last assignment and the round-robin position of each team."""

    def __init__(self, snapshots: Iterable[AgentSnapshot]) -> None:
        self.snapshots: dict[str, AgentSnapshot] = {}
        self._candidates: dict[str, _Candidate] = {}
        self._load: dict[str, int] = {}
        self._last: dict[str, dt.datetime] = {}
        self._by_team: dict[str | None, list[str]] = {None: []}
        self._cursor: dict[str | None, str] = {}
        for snapshot in sorted(snapshots, key=lambda s: s.agent.id):
            agent_id = snapshot.agent.id
            self.snapshots[agent_id] = snapshot
            self._candidates[agent_id] = _Candidate(snapshot)
            self._load[agent_id] = snapshot.open_cases
            self._last[agent_id] = snapshot.last_assigned_at or _NEVER
            self._by_team[None].append(agent_id)
            for team_id in snapshot.agent.team_ids:
                self._by_team.setdefault(team_id, []).append(agent_id)

    def load(self, agent_id: str) -> int:
        return self._load[agent_id]

    def members(self, team_id: str | None) -> list[str]:
        return self._by_team.get(team_id, [])

    def record(self, decision: RoutingDecision, now: dt.datetime) -> None:
        """The decision was carried out: the agent holds one more case."""
        if decision.agent_id is None:
            return
        self._load[decision.agent_id] += 1
        self._last[decision.agent_id] = now
        if decision.method == RoutingMethod.ROUND_ROBIN:
            self._cursor[decision.team_id] = decision.agent_id

    def with_loads(self, loads: dict[str, int], last_assigned: dict[str, dt.datetime | None]) -> AgentPool:
        """The same agents with other loads and last assignments (a pool kept while the agents do not change)."""
        clone = self.copy()
        clone._load = {agent_id: loads.get(agent_id, 0) for agent_id in self._load}
        clone._last = {agent_id: last_assigned.get(agent_id) or _NEVER for agent_id in self._last}
        clone._cursor = {}
        return clone

    def resume_turns(self, cursors: dict[str | None, str]) -> None:
        """Continue each team's round robin after the agent it last picked (the pool is rebuilt per decision)."""
        self._cursor.update(cursors)

    def release(self, agent_id: str) -> None:
        """A case of this agent was solved or moved away."""
        self._load[agent_id] = max(0, self._load[agent_id] - 1)

    def copy(self) -> AgentPool:
        clone = AgentPool.__new__(AgentPool)
        clone.snapshots = self.snapshots
        clone._candidates = self._candidates
        clone._by_team = self._by_team
        clone._load = dict(self._load)
        clone._last = dict(self._last)
        clone._cursor = dict(self._cursor)
        return clone

    # --- choosing ----------------------------------------------------------------------------------------------
    def best(self, team_id: str | None, skills: tuple[str, ...], language: str | None,
             exclude: str | None = None) -> tuple[str | None, Counter[str]]:
        """Fewest open cases, then idle longest, then lowest id; with why the others were left out."""
        rejected: Counter[str] = Counter()
        best_id: str | None = None
        best_key: tuple[int, dt.datetime, str] | None = None
        wanted_skills = tuple(s.casefold() for s in skills)
        wanted_language = _primary(language) if language else None
        for agent_id in self.members(team_id):
            candidate = self._candidates[agent_id]
            reason = self._unfit(candidate, exclude)
            if reason is None:
                missing = next((s for s in wanted_skills if s not in candidate.skills), None)
                if missing is not None:
                    reason = f"without skill {missing}"
                elif wanted_language is not None and wanted_language not in candidate.languages:
                    reason = f"not speaking {wanted_language}"
            if reason is not None:
                rejected[reason] += 1
                continue
            key = (self._load[agent_id], self._last[agent_id], agent_id)
            if best_key is None or key < best_key:
                best_id, best_key = agent_id, key
        return best_id, rejected

    def next_in_turn(self, team_id: str | None, exclude: str | None = None) -> str | None:
        """Round robin: the first agent after the team's last pick who is online and under capacity."""
        members = self.members(team_id)
        if not members:
            return None
        cursor = self._cursor.get(team_id)
        start = 0
        if cursor is not None:
            # Members are sorted by id: continue after the last pick even if it has left the team since.
            start = next((i for i, agent_id in enumerate(members) if agent_id > cursor), 0)
        for offset in range(len(members)):
            agent_id = members[(start + offset) % len(members)]
            if self._unfit(self._candidates[agent_id], exclude) is None:
                return agent_id
        return None

    def _unfit(self, candidate: _Candidate, exclude: str | None) -> str | None:
        if candidate.id == exclude:
            return "being rerouted from"
        if not candidate.online:
            return "not online"
        if self._load[candidate.id] >= candidate.capacity:
            return "at capacity"
        return None


def _summary(rejected: Counter[str]) -> str:
    return ", ".join(f"{count} {reason}" for reason, count in sorted(rejected.items())) or "nobody"


def _team_name(team_id: str | None) -> str:
    return f"team {team_id}" if team_id else "all agents"


def route(case: RoutingCase, pool: AgentPool, policy: RoutingPolicy, now: dt.datetime, *,
          exclude: str | None = None) -> RoutingDecision:
    """Choose an agent for an unassigned case (`exclude`: an agent it must move away from)."""
    reasons: list[str] = []
    skill = policy.category_skills.get(case.category) if case.category else None
    if case.category:
        reasons.append(f"category {case.category} needs skill {skill}" if skill else
                       f"category {case.category} needs no particular skill")
    skills = (skill,) if skill else ()
    if case.language:
        reasons.append(f"case language {case.language}")

    def assign(agent_id: str, team_id: str | None, method: RoutingMethod,
               outcome: RoutingOutcome = RoutingOutcome.ASSIGNED) -> RoutingDecision:
        return RoutingDecision(case_id=case.case_id, outcome=outcome, method=method, agent_id=agent_id,
                               team_id=team_id, reasons=reasons)

    tier_route = policy.tier_route(case.tier)
    if tier_route is not None:
        team_id = tier_route.team_id or case.team_id
        tier_skills = (*skills, tier_route.skill) if tier_route.skill else skills
        chosen, rejected = pool.best(team_id, tier_skills, case.language, exclude)
        if chosen is not None:
            reasons.append(f"{case.tier.value} route: {_team_name(team_id)}"
                           f"{' with skill ' + tier_route.skill if tier_route.skill else ''}; "
                           f"{chosen} fits, with {pool.load(chosen)} open cases (fewest)")
            return assign(chosen, team_id, RoutingMethod.SKILLS)
        reasons.append(f"{case.tier.value} route found nobody ({_summary(rejected)})")
        if tier_route.strict:
            return RoutingDecision(case_id=case.case_id, outcome=RoutingOutcome.QUEUED, method=RoutingMethod.NONE,
                                   team_id=team_id, reasons=[*reasons, "the route is strict: waiting for it"])

    decision = _within_team(case, case.team_id, skills, pool, policy, reasons, exclude)
    if decision is not None:
        return decision

    rule = policy.overflow_for(case.team_id)
    if rule is not None:
        overflow_at = case.waiting_since + dt.timedelta(minutes=rule.after_minutes)
        if now >= overflow_at:
            reasons.append(f"unassigned for {rule.after_minutes} minutes or more: overflow to team {rule.to_team_id}")
            decision = _within_team(case, rule.to_team_id, skills, pool, policy, reasons, exclude)
            if decision is not None:
                return decision.model_copy(update={"outcome": RoutingOutcome.OVERFLOWED})
        else:
            reasons.append(f"overflows to team {rule.to_team_id} at {overflow_at.isoformat()}")
            return RoutingDecision(case_id=case.case_id, outcome=RoutingOutcome.QUEUED, method=RoutingMethod.NONE,
                                   team_id=case.team_id, reasons=reasons, recheck_at=overflow_at)
    reasons.append("queued until an agent is free")
    return RoutingDecision(case_id=case.case_id, outcome=RoutingOutcome.QUEUED, method=RoutingMethod.NONE,
                           team_id=case.team_id, reasons=reasons)


def _within_team(case: RoutingCase, team_id: str | None, skills: tuple[str, ...], pool: AgentPool,
                 policy: RoutingPolicy, reasons: list[str], exclude: str | None) -> RoutingDecision | None:
    chosen, rejected = pool.best(team_id, skills, case.language, exclude)
    if chosen is not None:
        reasons.append(f"{_team_name(team_id)}: {chosen} fits, with {pool.load(chosen)} open cases "
                       f"(fewest; ties go to the longest idle); left out: {_summary(rejected)}")
        return RoutingDecision(case_id=case.case_id, outcome=RoutingOutcome.ASSIGNED, method=RoutingMethod.SKILLS,
                               agent_id=chosen, team_id=team_id, reasons=reasons)
    reasons.append(f"{_team_name(team_id)}: nobody fits ({_summary(rejected)})")
    if policy.round_robin_fallback:
        chosen = pool.next_in_turn(team_id, exclude)
        if chosen is not None:
            reasons.append(f"round robin in {_team_name(team_id)}: {chosen} is next and has room")
            return RoutingDecision(case_id=case.case_id, outcome=RoutingOutcome.ASSIGNED,
                                   method=RoutingMethod.ROUND_ROBIN, agent_id=chosen, team_id=team_id,
                                   reasons=reasons)
        reasons.append(f"round robin in {_team_name(team_id)}: nobody online with room")
    return None


def reroute_unavailable(agent_id: str, held: Iterable[RoutingCase], pool: AgentPool, policy: RoutingPolicy,
                        now: dt.datetime) -> OfflineDecision:
    """After an agent stops being online: wait out the grace period, then route their open cases again."""
    snapshot = pool.snapshots[agent_id]
    availability = snapshot.agent.availability
    if availability == Availability.ONLINE:
        return OfflineDecision(agent_id=agent_id, reroute=False, reasons=["online: keeps the cases"])
    since = snapshot.availability_since or now
    grace_ends = since + dt.timedelta(minutes=policy.offline_grace_minutes)
    if now < grace_ends:
        return OfflineDecision(agent_id=agent_id, reroute=False, recheck_at=grace_ends,
                               reasons=[f"{availability.value} since {since.isoformat()}: within the "
                                        f"{policy.offline_grace_minutes}-minute grace period"])
    scratch = pool.copy()
    decisions = []
    # The most urgent first, so they get the agents with the most room.
    for case in sorted(held, key=lambda c: (c.priority.rank, c.waiting_since)):
        decision = route(case, scratch, policy, now, exclude=agent_id)
        scratch.record(decision, now)
        decisions.append(decision)
    return OfflineDecision(agent_id=agent_id, reroute=True, decisions=decisions,
                           reasons=[f"{availability.value} since {since.isoformat()}, past the "
                                    f"{policy.offline_grace_minutes}-minute grace period: route the cases again"])
