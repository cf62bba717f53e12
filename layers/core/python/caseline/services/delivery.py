"""Delivery state of outbound messages: what the sender and the provider's feedback say happened to them.

Shared by everything that learns about a delivery: the outbound-email consumer (queued → sent, or failed
after its last attempt), SES feedback (delivered, bounced) and returned mail found by inbound ingestion
(bounced). Each change is written with the interaction's stored form as its condition, so two reports
racing on one message cannot overwrite each other, and emits `caseline.case.delivery_changed` so the
agent workspace updates live.

Statuses only move forward (queued → failed → sent → delivered → bounced): a late or repeated report that
would move a message back (SES "delivered" after our own "bounced", a replayed "sent") changes nothing.
"""

from __future__ import annotations

from ..domain.audit import FieldChange
from ..domain.auth import SYSTEM
from ..domain.errors import NotFound, VersionConflict
from ..domain.events import DeliveryChanged
from ..domain.interaction import Delivery, DeliveryStatus, Interaction
from .context import Change, Deps, Request, retrying

_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.FAILED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.BOUNCED: 4,
}


def moves_forward(current: DeliveryStatus | None, target: DeliveryStatus) -> bool:
    return current is None or _RANK[target] > _RANK[current]


def mark_delivery(
    deps: Deps,
    case_id: str,
    interaction_id: str,
    status: DeliveryStatus,
    detail: str | None = None,
    *,
    provider: str | None = None,
    provider_id: str | None = None,
    request: Request | None = None,
) -> Interaction:
    """Record a delivery report on an interaction; returns it as it now stands.

    With `provider` and `provider_id`, a lookup from the provider's message id to the interaction is written
    too, so feedback that names only that id (SES notifications) finds its way back.
    """
    request = request or Request(principal=SYSTEM, request_id="delivery")

    def attempt() -> Interaction:
        found = deps.store.interaction_for_update(case_id, interaction_id)
        if found is None:
            raise NotFound(f"no interaction {interaction_id} on case {case_id}")
        interaction, stored = found
        current = interaction.delivery.status if interaction.delivery else interaction.delivery_status
        if not moves_forward(current, status):
            return interaction
        change = Change(deps, request)
        delivery = Delivery(
            status=status,
            provider_id=provider_id or (interaction.delivery.provider_id if interaction.delivery else None),
            detail=(detail or None) and detail[:2000],
            updated_at=change.now,
        )
        updated = interaction.model_copy(update={"delivery": delivery, "delivery_status": status})
        change.uow.replace_interaction(updated, stored, lambda: VersionConflict("the interaction changed"))
        if provider and provider_id:
            change.uow.put_provider_message(provider, provider_id, case_id, interaction_id)
        change.audit("case", case_id, "case.delivery_changed", {
            f"interactions.{interaction_id}.delivery": FieldChange(
                before=current.value if current else None, after=status.value),
        })
        change.emit(DeliveryChanged(case_id=case_id, interaction_id=interaction_id,
                                    customer_id=interaction.customer_id,
                                    previous=current.value if current else None, current=status.value,
                                    provider_id=delivery.provider_id, detail=delivery.detail), subject=case_id)
        change.count_metric(f"EmailDelivery{status.value.title()}")
        change.commit()
        return updated

    return retrying(5, attempt)


def interaction_for_provider_message(deps: Deps, provider: str, message_id: str) -> tuple[str, str] | None:
    """(case id, interaction id) for a provider's message id, if we sent it."""
    return deps.store.provider_message(provider, message_id)
