"""SLA policies and team calendars as data: read by staff, written by admins, each write audited.

Which policy and calendar count for a case: the case team's calendar (`TeamCalendar`) names its policy
(`sla_policy_id`, else the `default` policy). A team without a stored calendar counts round-the-clock time in
the team's time zone; when no `default` policy is stored the built-in one (`DEFAULT_POLICY`) applies.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..adapters.sla_config_store import SlaConfigRepository
from ..automation.calendar import AutomationModel, BusinessCalendar, Weekday, WorkingInterval
from ..automation.sla import SlaMetric, SlaPolicy, SlaTarget
from ..domain.audit import diff
from ..domain.auth import SYSTEM, Role
from ..domain.case import Case, Priority
from ..domain.errors import NotFound, PreconditionRequired, RuleViolation, VersionConflict
from .authz import require_role, require_staff
from .context import Change, Deps, Request

DEFAULT_POLICY_ID = "default"
POLICY_ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,63}$"


class SlaEscalation(AutomationModel):
    """What to do when a clock reaches `when`: each step is carried out once per target, state and cycle."""

    when: Literal["warning", "breached"]
    targets: list[SlaMetric] = Field(default_factory=list, description="empty: every target")
    notify_supervisor: bool = Field(default=False, description="an internal note @mentioning the team's manager")
    raise_priority_to: Priority | None = Field(default=None, description="never lowers the priority")
    reassign_to_manager: bool = False

    @model_validator(mode="after")
    def _does_something(self) -> SlaEscalation:
        if not (self.notify_supervisor or self.raise_priority_to or self.reassign_to_manager):
            raise ValueError("an escalation needs at least one step")
        return self

    def applies_to(self, target: SlaMetric) -> bool:
        return not self.targets or target in self.targets


class SlaPolicyConfig(SlaPolicy):
    escalations: list[SlaEscalation] = Field(default_factory=list, max_length=20)


class SlaPolicyRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    policy: SlaPolicyConfig
    version: int = Field(ge=0, description="0: the built-in default, never stored")


class SlaPolicyList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    items: list[SlaPolicyRecord]


class TeamCalendar(AutomationModel):
    calendar: BusinessCalendar
    sla_policy_id: str | None = Field(default=None, pattern=POLICY_ID_PATTERN,
                                      description=f"the team's SLA policy; empty: {DEFAULT_POLICY_ID!r}")


class TeamCalendarRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    team_id: str
    calendar: BusinessCalendar
    sla_policy_id: str | None = None
    version: int = Field(ge=0, description="0: nothing stored yet (round-the-clock in the team's time zone)")


def _targets(business_hours: bool, minutes: dict[Priority, tuple[int, int, int]]) -> list[SlaTarget]:
    return [SlaTarget(priority=p, first_response_minutes=f, next_response_minutes=n, resolution_minutes=r,
                      business_hours=business_hours) for p, (f, n, r) in minutes.items()]


_ESCALATIONS = [
    SlaEscalation(when="warning", notify_supervisor=True),
    SlaEscalation(when="breached", notify_supervisor=True, raise_priority_to=Priority.HIGH),
]
DEFAULT_POLICY = SlaPolicyConfig(
    id=DEFAULT_POLICY_ID, name="24x7", escalations=_ESCALATIONS,
    targets=_targets(False, {Priority.URGENT: (60, 120, 8 * 60), Priority.HIGH: (4 * 60, 4 * 60, 24 * 60),
                             Priority.NORMAL: (8 * 60, 8 * 60, 3 * 24 * 60),
                             Priority.LOW: (24 * 60, 24 * 60, 7 * 24 * 60)}))
BUSINESS_HOURS_POLICY = SlaPolicyConfig(
    id="business-hours", name="Business hours", escalations=_ESCALATIONS,
    targets=_targets(True, {Priority.URGENT: (60, 120, 8 * 60), Priority.HIGH: (2 * 60, 4 * 60, 16 * 60),
                            Priority.NORMAL: (4 * 60, 8 * 60, 40 * 60), Priority.LOW: (8 * 60, 16 * 60, 80 * 60)}))


def office_hours(time_zone: str, country: str | None, subdivision: str | None = None) -> BusinessCalendar:
    """Monday to Friday, 09:00-17:00 local time, with the country's public holidays."""
    day = [WorkingInterval(start="09:00", end="17:00")]
    weekdays = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)
    return BusinessCalendar(name="Office hours", time_zone=time_zone, weekly_hours=dict.fromkeys(weekdays, day),
                            holiday_country=country, holiday_subdivision=subdivision)


# --- queries -------------------------------------------------------------------------------------------
def list_policies(deps: Deps, request: Request) -> SlaPolicyList:
    require_staff(request.principal, "SLA policies")
    stored = {p.id: SlaPolicyRecord(policy=p, version=v)
              for p, v in SlaConfigRepository(deps.store).list_policies(SlaPolicyConfig)}
    stored.setdefault(DEFAULT_POLICY_ID, SlaPolicyRecord(policy=DEFAULT_POLICY, version=0))
    return SlaPolicyList(items=sorted(stored.values(), key=lambda r: r.policy.id))


def get_policy(deps: Deps, request: Request, policy_id: str) -> SlaPolicyRecord:
    require_staff(request.principal, "SLA policies")
    found = SlaConfigRepository(deps.store).get_policy(policy_id, SlaPolicyConfig)
    if found is not None:
        return SlaPolicyRecord(policy=found[0], version=found[1])
    if policy_id == DEFAULT_POLICY_ID:
        return SlaPolicyRecord(policy=DEFAULT_POLICY, version=0)
    raise NotFound(f"SLA policy {policy_id} does not exist")


def get_calendar(deps: Deps, request: Request, team_id: str) -> TeamCalendarRecord:
    require_staff(request.principal, "team calendars")
    team = deps.store.get_team(team_id)
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    found = SlaConfigRepository(deps.store).get_calendar(team_id, TeamCalendar)
    if found is None:
        return TeamCalendarRecord(team_id=team_id, calendar=BusinessCalendar.always(team.time_zone), version=0)
    stored, version = found
    return TeamCalendarRecord(team_id=team_id, calendar=stored.calendar, sla_policy_id=stored.sla_policy_id,
                              version=version)


def effective_for(deps: Deps, case: Case) -> tuple[SlaPolicyConfig, BusinessCalendar]:
    """The policy and calendar that count for a case (two GetItems at most)."""
    repository = SlaConfigRepository(deps.store)
    calendar: BusinessCalendar | None = None
    policy_id = DEFAULT_POLICY_ID
    if case.team_id:
        found = repository.get_calendar(case.team_id, TeamCalendar)
        if found is not None:
            calendar = found[0].calendar
            policy_id = found[0].sla_policy_id or DEFAULT_POLICY_ID
        else:
            team = deps.store.get_team(case.team_id)
            calendar = BusinessCalendar.always(team.time_zone if team else "UTC")
    stored = repository.get_policy(policy_id, SlaPolicyConfig)
    if stored is None and policy_id != DEFAULT_POLICY_ID:
        stored = repository.get_policy(DEFAULT_POLICY_ID, SlaPolicyConfig)
    policy = stored[0] if stored is not None else DEFAULT_POLICY
    return policy, calendar or BusinessCalendar.always("UTC")


# --- commands ------------------------------------------------------------------------------------------
def _version_to_write(current: int | None, expected: int | None, what: str) -> int:
    if current is not None and expected is None:
        raise PreconditionRequired(f"send If-Match with the {what}'s ETag so that no one's change is lost")
    if expected is not None and expected != (current or 0):
        raise VersionConflict(f"the {what} was changed by someone else; reload it and decide again",
                              current_version=current)
    return (current or 0) + 1


def put_policy(deps: Deps, request: Request, policy_id: str, policy: SlaPolicyConfig, *,
               expected_version: int | None) -> SlaPolicyRecord:
    require_role(request.principal, Role.ADMIN, "changing SLA policies")
    if policy.id != policy_id:
        raise RuleViolation(f"the policy's id {policy.id!r} does not match the path's {policy_id!r}", field="id")
    repository = SlaConfigRepository(deps.store)
    found = repository.get_policy(policy_id, SlaPolicyConfig)
    version = _version_to_write(found[1] if found else None, expected_version, "SLA policy")
    change = Change(deps, request)
    repository.put_policy(change.uow, policy_id, policy, version=version,
                          expected_version=found[1] if found else None,
                          error=lambda: VersionConflict("the SLA policy changed while this request ran; try again"))
    before = found[0].model_dump(mode="json") if found else {}
    change.audit("sla_policy", policy_id, "sla_policy.saved", diff(before, policy.model_dump(mode="json")),
                 new_target=found is None)
    change.commit()
    return SlaPolicyRecord(policy=policy, version=version)


def put_calendar(deps: Deps, request: Request, team_id: str, calendar: TeamCalendar, *,
                 expected_version: int | None) -> TeamCalendarRecord:
    require_role(request.principal, Role.ADMIN, "changing team calendars")
    if deps.store.get_team(team_id) is None:
        raise NotFound(f"team {team_id} does not exist")
    repository = SlaConfigRepository(deps.store)
    policy_id = calendar.sla_policy_id
    if policy_id and policy_id != DEFAULT_POLICY_ID and repository.get_policy(policy_id, SlaPolicyConfig) is None:
        raise RuleViolation(f"SLA policy {policy_id} does not exist", field="sla_policy_id")
    found = repository.get_calendar(team_id, TeamCalendar)
    version = _version_to_write(found[1] if found else None, expected_version, "team calendar")
    change = Change(deps, request)
    repository.put_calendar(change.uow, team_id, calendar, version=version,
                            expected_version=found[1] if found else None,
                            error=lambda: VersionConflict("the calendar changed while this request ran; try again"))
    before = found[0].model_dump(mode="json") if found else {}
    change.audit("team_calendar", team_id, "team_calendar.saved", diff(before, calendar.model_dump(mode="json")),
                 new_target=found is None)
    change.commit()
    return TeamCalendarRecord(team_id=team_id, calendar=calendar.calendar, sla_policy_id=policy_id, version=version)


# Public holidays for a team's calendar, from its time zone: the zones `caseline dev` seeds (see runtime/seed.py).
ZONE_HOLIDAYS: dict[str, tuple[str, str | None]] = {
    "Europe/Berlin": ("DE", "BE"),
    "Europe/Munich": ("DE", "BY"),
    "Europe/Madrid": ("ES", "MD"),
    "Europe/London": ("GB", "ENG"),
    "America/New_York": ("US", "NY"),
}


def install_defaults(deps: Deps) -> int:
    """The starting configuration, once: the 24x7 default and a business-hours policy, and an office-hours
    calendar (with the public holidays of its zone's country) for every team. Returns how many items it wrote."""
    repository = SlaConfigRepository(deps.store)
    if repository.get_policy(DEFAULT_POLICY_ID, SlaPolicyConfig) is not None:
        return 0
    request = Request(principal=SYSTEM, request_id="sla-defaults")
    written = 0
    for policy in (DEFAULT_POLICY, BUSINESS_HOURS_POLICY):
        put_policy(deps, request, policy.id, policy, expected_version=None)
        written += 1
    cursor: str | None = None
    while True:
        page = deps.store.list_teams(limit=100, cursor=cursor)
        for team in page.items:
            if repository.get_calendar(team.id, TeamCalendar) is not None:
                continue
            country, subdivision = ZONE_HOLIDAYS.get(team.time_zone, (None, None))
            calendar = TeamCalendar(calendar=office_hours(team.time_zone, country, subdivision),
                                    sla_policy_id=BUSINESS_HOURS_POLICY.id)
            put_calendar(deps, request, team.id, calendar, expected_version=None)
            written += 1
        if page.cursor is None:
            return written
        cursor = page.cursor
