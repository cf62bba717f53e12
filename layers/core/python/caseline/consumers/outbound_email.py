"""Public replies on email cases go out as email (`caseline.case.reply_added` → MailSender).

Only an agent's public, outbound reply on the email channel is sent (a reply on a web case whose channel
the agent switched to email counts: the interaction's channel decides). The message is composed by
`mail/compose.py` from the case, the requester (and the case's collaborators, copied), the customer's last
inbound message (for In-Reply-To/References) and the attachments in the blob store.

Delivery state lives on the interaction (`services/delivery.py`): queued when the reply is added, sent with
the provider's id once the sender took it, failed when the sender refused it for good or the last retry
failed. Idempotent twice over: the dispatcher's marker per event, and an interaction already sent is never
sent again (a crash between sending and the marker costs nothing).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aws_lambda_powertools import Logger

from ..domain.case import Case
from ..domain.common import Channel
from ..domain.events import EventEnvelope, ReplyAdded
from ..domain.interaction import DeliveryStatus, Direction, EmailMeta, Interaction, Visibility
from ..mail.compose import FilePart, Mailbox, Reply, compose_reply, pick_locale
from ..ports.mail import MailSender, MailSendError, OutgoingMail
from ..services.context import Deps
from ..services.delivery import mark_delivery
from . import Consumer

logger = Logger(service="outbound-email")
NAME = "outbound-email"
HISTORY_PAGE = 100
HISTORY_LIMIT = 2_000  # interactions read back for the customer's last message; older threads rarely matter


def _to_send(deps: Deps, event: EventEnvelope) -> tuple[Case, Interaction] | None:
    payload = event.payload()
    if not isinstance(payload, ReplyAdded) or payload.author_kind == "customer":
        return None
    interaction = deps.store.get_interaction(payload.case_id, payload.interaction_id)
    if (interaction is None or interaction.channel is not Channel.EMAIL
            or interaction.visibility is not Visibility.PUBLIC or interaction.direction is not Direction.OUTBOUND):
        return None
    status = interaction.delivery.status if interaction.delivery else interaction.delivery_status
    if status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.BOUNCED):
        return None
    case = deps.store.get_case(payload.case_id)
    return (case, interaction) if case is not None else None


def _last_inbound_email(deps: Deps, case: Case, before: Interaction) -> EmailMeta | None:
    """The identifiers of the newest inbound email on the case written before this reply."""
    found: EmailMeta | None = None
    cursor: str | None = None
    read = 0
    while read < HISTORY_LIMIT:
        page = deps.store.interactions_of([case.id, *case.merged_from], limit=HISTORY_PAGE, cursor=cursor)
        for item in page.items:
            if item.id >= before.id:
                return found
            if item.direction is Direction.INBOUND and item.email is not None and item.email.message_id:
                found = item.email
        read += len(page.items)
        if not page.cursor or not page.items:
            break
        cursor = page.cursor
    return found


def compose(deps: Deps, case: Case, interaction: Interaction) -> OutgoingMail:
    settings = deps.settings
    customer = deps.store.get_customer(case.requester_id)
    if customer is None or not customer.primary_email:
        raise MailSendError(f"the requester of {case.display_number} has no email address", permanent=True)
    if customer.primary_email in customer.bouncing_emails:
        # Sending on to an address that bounced for good only hurts the sender's reputation.
        raise MailSendError(f"{customer.primary_email} bounced before; correct the customer's address and "
                            "send the reply again", permanent=True)
    cc: list[Mailbox] = []
    for collaborator_id in case.collaborator_ids:
        collaborator = deps.store.get_customer(collaborator_id)
        if (collaborator is not None and collaborator.primary_email
                and collaborator.primary_email not in collaborator.bouncing_emails):
            cc.append(Mailbox(collaborator.primary_email, collaborator.name))
    files: list[FilePart] = []
    for ref in interaction.attachments:
        if deps.blobs is None:
            raise MailSendError("no blob store to read attachments from", permanent=True)
        files.append(FilePart(ref.filename, ref.content_type, deps.blobs.get(ref.key).data))
    last = _last_inbound_email(deps, case, interaction)
    return compose_reply(Reply(
        case_id=case.id,
        case_number=case.number,
        case_subject=case.subject,
        interaction_id=interaction.id,
        text=interaction.text,
        sent_at=interaction.created_at,
        support_address=settings.support_addresses[0],
        to=Mailbox(customer.primary_email, customer.name),
        team_name=settings.support_team_name,
        author_name=interaction.author.name,
        cc=tuple(cc),
        locale=pick_locale(customer.locale, case.language),
        in_reply_to=(last.message_id,) if last and last.message_id else (),
        references=tuple(last.references) if last else (),
        attachments=tuple(files),
    ))


def outbound_email_consumer(sender: MailSender) -> Consumer:
    def handle(deps: Deps, event: EventEnvelope) -> None:
        found = _to_send(deps, event)
        if found is None:
            return
        case, interaction = found
        try:
            message = compose(deps, case, interaction)
            provider_id = sender.send(message)
        except MailSendError as exc:
            if not exc.permanent:
                raise  # the dispatcher retries; give_up records the failure after the last attempt
            mark_delivery(deps, case.id, interaction.id, DeliveryStatus.FAILED, str(exc))
            logger.warning("refused for good", case_id=case.id, interaction_id=interaction.id, error=str(exc))
            return
        mark_delivery(deps, case.id, interaction.id, DeliveryStatus.SENT, provider=sender.provider,
                      provider_id=provider_id)
        logger.info("sent", case_id=case.id, interaction_id=interaction.id, provider_id=provider_id)

    def give_up(deps: Deps, event: EventEnvelope, error: str) -> None:
        payload = event.payload()
        if isinstance(payload, ReplyAdded) and _to_send(deps, event) is not None:
            mark_delivery(deps, payload.case_id, payload.interaction_id, DeliveryStatus.FAILED, error)

    return Consumer(name=NAME, event_types=frozenset({ReplyAdded.event_type}), handle=handle, give_up=give_up)


def deliver_with_retries(consumer: Consumer, deps: Deps, event: EventEnvelope, *, attempts: int,
                         base_delay: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> None:
    """Where no dispatcher retries (a Lambda invocation): the same backoff, then `give_up`, then the error."""
    for attempt in range(1, attempts + 1):
        try:
            consumer.handle(deps, event)
            return
        except Exception as exc:
            if attempt == attempts:
                if consumer.give_up is not None:
                    consumer.give_up(deps, event, f"{type(exc).__name__}: {exc}")
                raise
            logger.warning("send failed; retrying", event_id=event.id, attempt=attempt, error=str(exc))
            sleep(base_delay * 2 ** (attempt - 1))
