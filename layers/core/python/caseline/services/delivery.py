"""Delivery state of outbound messages: what the sender and the provider's feedback say happened to them.

Shared by everything that learns about a delivery: the outbound-email consumer (queued → sent, or failed
after its last attempt), SES feedback (delivered, bounced) and returned mail found by inbound ingestion
(bounced). Each change is written with the interaction's stored form as its condition, so two reports
racing on one message cannot overwrite each other, and emits `caseline.case.delivery_changed` so the
agent workspace updates live.

Statuses only move forward (queued → sent → delivered → bounced; failed when the sender gives up or the
provider rejects what it took, and sent again after a replay): a late or repeated report that would move a
message back (SES "delivered" after "bounced", a replayed "sent" after "delivered") changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.audit import FieldChange
from ..domain.auth import SYSTEM
from ..domain.common import Channel
from ..domain.errors import DomainError, NotFound, VersionConflict
from ..domain.events import CustomerUpdated, DeliveryChanged
from ..domain.interaction import Delivery, DeliveryStatus, Interaction
from ..domain.timeline import TimelineEntry, TimelineKind
from ..ports.mail import ProviderReport
from .context import Change, Deps, Request, retrying
from .customers import record_timeline_entry

_NEXT = {
    None: frozenset(DeliveryStatus),
    DeliveryStatus.QUEUED: frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.DELIVERED,
                                      DeliveryStatus.BOUNCED}),
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.BOUNCED}),
    # failed after sent: the provider took the message and then rejected it (SES Reject: a virus, say)
    DeliveryStatus.SENT: frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.BOUNCED, DeliveryStatus.FAILED}),
    DeliveryStatus.DELIVERED: frozenset({DeliveryStatus.BOUNCED}),  # some servers accept, then bounce
    DeliveryStatus.BOUNCED: frozenset(),
}


def moves_forward(current: DeliveryStatus | None, target: DeliveryStatus) -> bool:
    return target in _NEXT[current]


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


@dataclass(frozen=True)
class ReportApplied:
    """What a provider report did: the interaction's status after it, and whether it was new to us."""

    case_id: str | None
    interaction_id: str | None
    status: DeliveryStatus | None
    duplicate: bool = False


def apply_provider_report(deps: Deps, report: ProviderReport) -> ReportApplied:
    """Apply SES feedback (or any provider's) to the message it names, through the provider-id lookup.

    delivery → delivered; bounce → bounced (a permanent bounce also flags the recipient's address as
    bouncing on their customer record); reject → failed; complaint → the customer is flagged with
    `email_complaint_at`. Bounces and complaints go on the customer's timeline once per report.
    """
    found = deps.store.provider_message(report.provider, report.provider_id)
    if found is None:
        return ReportApplied(None, None, None)
    case_id, interaction_id = found
    status = {"delivery": DeliveryStatus.DELIVERED, "bounce": DeliveryStatus.BOUNCED,
              "reject": DeliveryStatus.FAILED}.get(report.kind)
    interaction = (mark_delivery(deps, case_id, interaction_id, status, report.detail) if status is not None
                   else deps.store.get_interaction(case_id, interaction_id))
    duplicate = False
    if report.kind in ("bounce", "complaint") and interaction is not None:
        duplicate = not _record_feedback(deps, report, case_id, interaction)
    current = interaction.delivery_status if interaction is not None else None
    return ReportApplied(case_id, interaction_id, current, duplicate)


def _record_feedback(deps: Deps, report: ProviderReport, case_id: str, interaction: Interaction) -> bool:
    """Flag the customer and write the timeline entry; False when this report was applied before."""
    request = Request(principal=SYSTEM, request_id=f"{report.provider}-feedback")
    case = deps.store.get_case(case_id)
    number = f" on {case.display_number}" if case is not None else ""

    def attempt() -> bool:
        customer = deps.store.get_customer(interaction.customer_id)
        if customer is None:
            return False
        change = Change(deps, request)
        updates: dict[str, object] = {}
        if report.kind == "complaint":
            updates["email_complaint_at"] = change.now
            summary = f"Reported our email{number} as spam ({report.detail})"
        else:
            flagged = [a for a in report.recipients if a in customer.emails and a not in customer.bouncing_emails]
            if report.permanent and flagged:
                updates["bouncing_emails"] = [*customer.bouncing_emails, *flagged][:20]
            summary = f"{'Mail bounced' if report.permanent else 'Mail not delivered'}{number}: {report.detail}"
        if updates:
            updated = customer.model_copy(update={**updates, "version": customer.version + 1,
                                                  "updated_at": change.now})
            change.uow.put_customer(updated, expected_version=customer.version,
                                    error=lambda: VersionConflict("the customer changed; try again"))
            change.audit("customer", customer.id, f"customer.email_{report.kind}", {
                name: FieldChange(before=getattr(customer, name), after=getattr(updated, name))
                for name in updates})
        entry = TimelineEntry(
            id=change.new_id(change.now), customer_id=customer.id, kind=TimelineKind.CASE_EVENT,
            channel=Channel.EMAIL, occurred_at=change.now, case_id=case_id, summary=summary[:500],
            source=report.provider, external_id=report.report_id[:200],
            payload={"feedback": report.kind, "permanent": report.permanent, "interaction_id": interaction.id,
                     "recipients": list(report.recipients[:20]), "provider_id": report.provider_id},
        )
        record_timeline_entry(change, entry)
        change.uow.claim_external_event(f"{report.provider}-feedback", report.report_id[:200], entry,
                                        lambda: AlreadyApplied("this report was applied before"))
        if report.kind == "complaint":
            change.emit(CustomerUpdated(customer_id=customer.id, changed=["email_complaint_at"]),
                        subject=customer.id)
        change.count_metric(f"Email{report.kind.title()}")
        try:
            change.commit()
        except AlreadyApplied:
            return False
        return True

    return retrying(5, attempt)


class AlreadyApplied(DomainError):
    """A provider report seen before."""
