"""Agents (staff who work cases) and the teams they belong to."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .auth import Role
from .common import Model, TimeZone
from .ids import AgentId, Email, LanguageTag, TeamId


class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Agent(Model):
    id: AgentId
    name: str = Field(min_length=1, max_length=200)
    email: Email
    role: Role = Role.AGENT
    handle: str = Field(pattern=r"^[a-z0-9][a-z0-9._\-]{1,39}$", description="used in @mentions")
    skills: list[str] = Field(default_factory=list)
    languages: list[LanguageTag] = Field(default_factory=lambda: ["en"])
    team_ids: list[TeamId] = Field(default_factory=list)
    capacity: int = Field(default=10, ge=0, le=500, description="open cases this agent can hold at once")
    availability: Availability = Availability.OFFLINE
    time_zone: TimeZone = "UTC"


class Team(Model):
    id: TeamId
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    manager_id: AgentId | None = None
    time_zone: TimeZone = "UTC"
