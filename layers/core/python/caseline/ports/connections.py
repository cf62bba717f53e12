"""Live updates: who is connected (the connection registry) and how a message reaches them (the pusher).

In AWS a connection is an API Gateway WebSocket connection and the pusher posts through the management
API; on one machine both are the local gateway's hub. Connections expire (`expires_at`, epoch seconds):
API Gateway closes a WebSocket after two hours at most, so a registry entry never needs to outlive that,
and a client that vanished without a disconnect is forgotten by the TTL sweep.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from ..domain.auth import Role


@dataclass(frozen=True)
class LiveConnection:
    connection_id: str
    principal_id: str
    role: Role
    expires_at: int

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


class ConnectionRegistry(ABC):
    @abstractmethod
    def add(self, connection: LiveConnection) -> None:
        """Register (or refresh) a connection; adding an id again replaces it."""

    @abstractmethod
    def remove(self, connection_id: str) -> None:
        """Forget a connection; removing an unknown id is not an error."""

    @abstractmethod
    def live_staff(self, *, now: int) -> list[LiveConnection]:
        """Every staff connection that has not expired at `now`."""


class PushFailed(Exception):
    """The message may not have arrived, and the connection may still be there (throttling, an outage)."""


class Pusher(ABC):
    @abstractmethod
    def push(self, connection_id: str, payload: bytes) -> bool:
        """Send one text frame. True when it was sent (or queued to be), False when the connection is gone.

        Raises PushFailed for anything else; the caller decides whether to try again.
        """
