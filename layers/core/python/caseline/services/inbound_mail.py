"""Inbound email → cases: the one ingestion path both runtimes share.

On one machine the SMTP server of `caseline dev` calls `ingest` with each accepted message; in AWS the
inbound_email function calls it with the raw message SES stored in S3. The steps are the same:

    parse → classify → (loop? storm? too large?) → bounce / auto-reply / receipt / complaint, or a person:
    find the thread → join it, reopen it, follow it up, or open a case

Every message ends as a case, an interaction, or a recorded rejection (`MailRejection`, listed by admins).
`source_id` is the idempotency key: the claim on it is written in the same transaction as what the message
became, so a message delivered twice (SES retries, an SMTP client that lost our 250) is stored once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from ..adapters.mail_records import MailRecords
from ..domain.audit import FieldChange
from ..domain.auth import Principal, Role
from ..domain.case import Case, CaseStatus, check_transition
from ..domain.common import Channel
from ..domain.customer import Customer
from ..domain.errors import DomainError, NotFound, VersionConflict
from ..domain.events import CaseOpened, CaseReopened, CaseStatusChanged, ReplyAdded
from ..domain.interaction import (
    AttachmentRef,
    Author,
    AuthorKind,
    DeliveryStatus,
    Direction,
    EmailMeta,
    Interaction,
    Visibility,
)
from ..domain.mail import MailRejection, RejectionReason
from ..domain.timeline import TimelineEntry, TimelineKind
from ..mail import Classification, MessageKind, ParsedMessage, SplitReply, find_thread, parse_message, split_reply
from ..mail.classify import classify
from ..mail.models import Attachment
from ..mail.threading import ThreadHint
from ..ports.blobs import check_content_type
from . import sla_clock
from .attachments import attachment_key
from .cases import _case_event_entry, _excerpt, _interaction_entry, _write_case
from .commands import CustomerRef
from .context import Change, Deps, Request, retrying
from .customers import new_customer, record_timeline_entry

MAX_TEXT = 200_000
MAX_ATTACHMENTS = 100
MAX_COLLABORATORS = 50
MAX_NEW_COLLABORATORS = 5  # customers created from one message's Cc (each costs six writes in the transaction)
ITEM_BUDGET = 300_000  # bytes of text, quote and HTML on one interaction item (DynamoDB items stop at 400 KB)
MAIL_PRINCIPAL = Principal(subject="inbound-mail", role=Role.ADMIN, name="Inbound mail")
NO_SUBJECT = "(no subject)"


class Outcome(StrEnum):
    CASE_OPENED = "case_opened"
    REPLY_ADDED = "reply_added"
    AUTO_REPLY_RECORDED = "auto_reply_recorded"
    RECEIPT_RECORDED = "receipt_recorded"
    BOUNCE_RECORDED = "bounce_recorded"
    COMPLAINT_RECORDED = "complaint_recorded"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class IngestOutcome(BaseModel):
    outcome: Outcome
    case_id: str | None = None
    case_number: int | None = None
    interaction_id: str | None = None
    customer_id: str | None = None
    rejection_id: str | None = None
    reason: str | None = None
    reopened: bool = False
    follow_up_of: str | None = None
    thread_source: str | None = None
    first_outcome: Outcome | None = None  # for a duplicate: what the first delivery became


class _AlreadyIngested(DomainError):
    """Another delivery of the same source committed first."""


def source_id_for(raw: bytes) -> str:
    """The idempotency key when the transport gives none: the bytes' SHA-256."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --- entry point ----------------------------------------------------------------------------------------
def ingest(
    deps: Deps,
    raw: bytes,
    *,
    recipients: list[str],
    source_id: str,
    received_at: datetime | None = None,
    verdicts: dict[str, str] | None = None,
    envelope_sender: str | None = None,
) -> IngestOutcome:
    """Turn one received message into a case, an interaction or a recorded rejection (see the module doc).

    `envelope_sender` is the SMTP MAIL FROM (SES: `mail.source`): the last resort for a message whose
    headers name nobody."""
    records = MailRecords(deps.store)
    try:
        return _ingest(deps, records, raw, recipients=[r.strip().lower() for r in recipients if r.strip()],
                       source_id=source_id, received_at=received_at or deps.clock.now(), verdicts=verdicts or {},
                       envelope_sender=envelope_sender)
    except _AlreadyIngested:
        return _duplicate(records, source_id)


def _duplicate(records: MailRecords, source_id: str) -> IngestOutcome:
    first = records.outcome_for(source_id)
    if first is None:  # the other delivery's record expired between our write and this read
        return IngestOutcome(outcome=Outcome.DUPLICATE)
    return IngestOutcome.model_validate({**first, "outcome": Outcome.DUPLICATE, "first_outcome": first["outcome"]})


def _ingest(deps: Deps, records: MailRecords, raw: bytes, *, recipients: list[str], source_id: str,
            received_at: datetime, verdicts: dict[str, str], envelope_sender: str | None) -> IngestOutcome:
    if records.outcome_for(source_id) is not None:
        return _duplicate(records, source_id)
    settings = deps.settings
    job = _Job(deps, records, raw, recipients, source_id, received_at, verdicts)
    if len(raw) > settings.mail_max_bytes:
        return job.reject(RejectionReason.TOO_LARGE, f"{len(raw)} bytes; the limit is {settings.mail_max_bytes}",
                          keep_raw=False)
    parsed = job.parsed = parse_message(raw)
    verdict = _failed_verdict(verdicts)
    if verdict is not None:
        return job.reject(verdict, f"the receiving service's {verdict.value} check failed")
    if recipients and not any(_is_ours(r, settings.support_addresses, settings.our_domains) for r in recipients):
        return job.reject(RejectionReason.NOT_FOR_US, "none of the recipients is a support address")
    classification = job.classification = classify(parsed, settings.our_domains, settings.support_addresses)
    if classification.from_us:
        return job.reject(RejectionReason.LOOP, "sent from one of our own addresses: a mail loop")
    sender = _sender_address(parsed, envelope_sender)
    # Bounces are exempt: a batch of our notifications returning at once comes from one mail system.
    if sender is not None and classification.kind is not MessageKind.BOUNCE:
        count = records.messages_in_window(sender, received_at, settings.mail_rate_window_seconds) + 1
        job.counted_sender = sender  # counted in the transaction of the message's outcome, whatever it is
        if count > settings.mail_rate_limit:
            return job.reject(RejectionReason.RATE_LIMITED, f"{count} messages from {sender} within "
                              f"{settings.mail_rate_window_seconds} s; the limit is {settings.mail_rate_limit}")
    match classification.kind:
        case MessageKind.BOUNCE:
            return _bounce(job)
        case MessageKind.AUTO_REPLY | MessageKind.READ_RECEIPT:
            return _automated(job)
        case MessageKind.ABUSE_REPORT:
            return _complaint(job)
    if sender is None or not _valid_email(sender):
        return job.reject(RejectionReason.NO_SENDER, "no sender address could be read from the message")
    return retrying(3, lambda: _conversation(job, sender))


def _sender_address(parsed: ParsedMessage, envelope_sender: str | None = None) -> str | None:
    """From, else Reply-To, else the Return-Path the receiving server recorded, else the envelope sender:
    mail without a readable From still reaches a customer when any of them names one."""
    if parsed.sender is not None:
        return parsed.sender.address
    if parsed.reply_to:
        return parsed.reply_to[0].address
    for candidate in (parsed.header("Return-Path"), envelope_sender):
        path = (candidate or "").strip().strip("<>").strip().lower()
        if "@" in path:
            return path
    return None


def _failed_verdict(verdicts: dict[str, str]) -> RejectionReason | None:
    status = {k.lower(): str(v).upper() for k, v in verdicts.items()}
    if status.get("virus") == "FAIL":
        return RejectionReason.VIRUS
    if status.get("spam") == "FAIL":
        return RejectionReason.SPAM
    return None


def _is_ours(address: str, support_addresses: list[str], our_domains: list[str]) -> bool:
    local, _, domain = address.lower().rpartition("@")
    if domain not in our_domains:
        return False
    base = f"{local.split('+', 1)[0]}@{domain}"
    return base in {a.lower() for a in support_addresses} or address.lower() in support_addresses


def _valid_email(address: str) -> bool:
    try:
        CustomerRef(email=address)
    except ValueError:
        return False
    return True


# --- one message being ingested -------------------------------------------------------------------------
class _Job:
    def __init__(self, deps: Deps, records: MailRecords, raw: bytes, recipients: list[str], source_id: str,
                 received_at: datetime, verdicts: dict[str, str]) -> None:
        self.deps = deps
        self.records = records
        self.raw = raw
        self.recipients = recipients
        self.source_id = source_id
        self.received_at = received_at
        self.verdicts = verdicts
        self.parsed: ParsedMessage | None = None
        self.classification: Classification | None = None
        self.sha256 = hashlib.sha256(raw).hexdigest()
        self.counted_sender: str | None = None  # the sender whose rate window this message counts in
        self._split: SplitReply | None = None

    def split(self) -> SplitReply:
        """The message's text split into what is new, the quoted history and the signature (once per job)."""
        if self._split is None:
            self._split = split_reply(self.message.text)
        return self._split

    @property
    def message(self) -> ParsedMessage:
        assert self.parsed is not None
        return self.parsed

    def change(self) -> Change:
        return Change(self.deps, Request(principal=MAIL_PRINCIPAL, request_id=f"mail:{self.source_id}"[:200]))

    def claim(self, change: Change, outcome: IngestOutcome) -> IngestOutcome:
        """Write the source claim with `outcome` (and the sender's rate count) into the change and commit it."""
        self.records.claim_source(change.uow, self.source_id, outcome.model_dump(mode="json", exclude_none=True),
                                  change.now, lambda: _AlreadyIngested(f"source {self.source_id} was ingested"))
        if self.counted_sender is not None:
            self.records.count_message(change.uow, self.counted_sender, self.received_at,
                                       self.deps.settings.mail_rate_window_seconds)
        change.commit()
        return outcome

    # blobs
    def store_raw(self, case_id: str) -> AttachmentRef:
        return self._put(attachment_key(case_id, self.sha256, "message.eml"), "message.eml", "message/rfc822",
                         self.raw, self.sha256)

    def store_attachments(self, case_id: str) -> list[AttachmentRef]:
        refs: list[AttachmentRef] = []
        seen: set[str] = set()
        for attachment in self.message.attachments:
            if attachment.sha256 in seen or len(refs) == MAX_ATTACHMENTS:
                continue
            seen.add(attachment.sha256)
            refs.append(self._put_attachment(case_id, attachment))
        return refs

    def _put_attachment(self, case_id: str, attachment: Attachment) -> AttachmentRef:
        filename = (attachment.filename or "attachment").strip()[:255] or "attachment"
        content_type = attachment.content_type.split(";", 1)[0].strip().lower()
        try:
            check_content_type(content_type)
        except ValueError:
            content_type = "application/octet-stream"
        key = attachment_key(case_id, attachment.sha256, filename)
        return self._put(key, filename, content_type, attachment.data, attachment.sha256)

    def _put(self, key: str, filename: str, content_type: str, data: bytes, sha256: str) -> AttachmentRef:
        blobs = self.deps.blobs
        if blobs is None:
            raise RuntimeError("no blob store is configured")
        if blobs.head(key) is None:  # the key holds the SHA-256: a stored blob is these bytes
            blobs.put(key, data, content_type=content_type)
        return AttachmentRef(key=key, filename=filename, content_type=content_type, size=len(data), sha256=sha256)

    # rejections
    def reject(self, reason: RejectionReason, detail: str, *, keep_raw: bool = True) -> IngestOutcome:
        def attempt() -> IngestOutcome:
            change = self.change()
            rejection_id = change.new_id(change.now)
            raw_key = None
            if keep_raw and self.deps.blobs is not None and len(self.raw) <= self.deps.blobs.max_size:
                raw_key = f"mail/rejected/{self.sha256}/message.eml"
                if self.deps.blobs.head(raw_key) is None:
                    self.deps.blobs.put(raw_key, self.raw, content_type="message/rfc822")
            parsed = self.parsed
            rejection = MailRejection(
                id=rejection_id, reason=reason, detail=detail[:2000], source_id=self.source_id[:1000],
                sender=parsed.sender.address[:998] if parsed and parsed.sender else None,
                recipients=[r[:254] for r in self.recipients[:100]],
                subject=(parsed.subject if parsed else "")[:998],
                message_id=parsed.message_id[:998] if parsed and parsed.message_id else None,
                kind=self.classification.kind.value if self.classification else None,
                size=len(self.raw), raw_key=raw_key, verdicts=dict(list(self.verdicts.items())[:20]),
                received_at=self.received_at,
            )
            self.records.put_rejection(change.uow, rejection)
            change.count_metric("InboundMailRejected")
            return self.claim(change, IngestOutcome(outcome=Outcome.REJECTED, rejection_id=rejection_id,
                                                    reason=reason.value))

        return retrying(3, attempt)

    # interactions
    def interaction(self, change: Change, case: Case, customer: Customer, *, visibility: Visibility =
                    Visibility.PUBLIC, author: Author | None = None) -> Interaction:
        parsed = self.message
        split = self.split()
        text = split.new if split.new.strip() else parsed.text
        quoted = "\n".join(part for part in (split.quoted, split.signature) if part and part.strip()) or None
        if text is parsed.text:
            quoted = None
        html = parsed.html
        text, quoted, html = _fit(text, quoted, html)
        return Interaction(
            id=change.new_id(change.now),
            case_id=case.id,
            customer_id=case.requester_id,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            visibility=visibility,
            author=author or Author(kind=AuthorKind.CUSTOMER, id=customer.id, name=customer.name),
            text=text,
            quoted_text=quoted,
            html=html,
            attachments=self.store_attachments(case.id),
            raw_ref=self.store_raw(case.id),
            email=EmailMeta(message_id=_cap(parsed.message_id), in_reply_to=[_cap(parsed.in_reply_to)]
                            if parsed.in_reply_to else [], references=[_cap(r) for r in parsed.references][-100:]),
            created_at=change.now,
        )


def _cap(value: str | None) -> str | None:
    return value[:998] if value else value


def _fit(text: str, quoted: str | None, html: str | None) -> tuple[str, str | None, str | None]:
    """Cut the text at 200,000 characters and keep the item under DynamoDB's size limit: HTML goes first,
    then the quoted history is shortened (the raw message keeps everything)."""
    text = text[:MAX_TEXT]
    quoted = quoted[:MAX_TEXT] if quoted else quoted

    def size(value: str | None) -> int:
        return len(value.encode("utf-8", "surrogatepass")) if value else 0

    if size(text) + size(quoted) + size(html) > ITEM_BUDGET:
        html = None
    while size(text) + size(quoted) > ITEM_BUDGET and quoted:
        quoted = quoted[: len(quoted) // 2] or None
    while size(text) > ITEM_BUDGET:
        text = text[: len(text) * 3 // 4]
    return text, quoted, html


# --- people writing -------------------------------------------------------------------------------------
def _conversation(job: _Job, sender: str) -> IngestOutcome:
    deps, parsed = job.deps, job.message
    settings = deps.settings
    hint = find_thread(parsed, settings.our_domains, job.recipients)
    change = job.change()
    sender_name = parsed.sender.name.strip() if parsed.sender and parsed.sender.name.strip() else None
    customer = _find_customer(deps, sender)
    case = _thread_case(deps, hint)
    belongs = case is not None and customer is not None and (
        customer.id == case.requester_id or customer.id in case.collaborator_ids)
    if case is not None and belongs:
        assert customer is not None
        solved_too_long = case.status is CaseStatus.SOLVED and (
            case.solved_at is None or change.now - case.solved_at > timedelta(days=settings.reopen_window_days))
        if case.status is not CaseStatus.CLOSED and not solved_too_long:
            return _reply(job, change, case, customer, hint)
        follow_up_of: str | None = case.id
    else:
        follow_up_of = None
    if customer is None:
        customer = new_customer(change, CustomerRef(email=sender, name=(sender_name or sender)[:200]))
    return _open(job, change, customer, follow_up_of=follow_up_of, hint=hint if belongs else None)


def _find_customer(deps: Deps, address: str) -> Customer | None:
    owner = deps.store.customer_for_identity("email", address.lower())
    return deps.store.get_customer(owner) if owner else None


def _thread_case(deps: Deps, hint: ThreadHint) -> Case | None:
    if not hint.found:
        return None
    case_id = hint.case_id
    if case_id is None and hint.case_number is not None:
        case_id = deps.store.case_id_for_number(hint.case_number)
    case = deps.store.get_case(case_id) if case_id else None
    for _ in range(10):  # a merged case forwards to the case it was merged into
        if case is None or case.merged_into is None:
            break
        case = deps.store.get_case(case.merged_into)
    return case


def _collaborators(job: _Job, change: Change, case_requester: str, existing: list[str]) -> list[str]:
    """Cc'd people (not us, not the requester) as customer ids, found or created, appended to `existing`."""
    settings = job.deps.settings
    found = list(existing)
    created = 0
    for address in job.message.cc:
        if len(found) >= MAX_COLLABORATORS:
            break
        email = address.address.lower()
        if address.domain in settings.our_domains or not _valid_email(email):
            continue
        customer = _find_customer(job.deps, email)
        if customer is None:
            if created == MAX_NEW_COLLABORATORS:
                continue
            customer = new_customer(change, CustomerRef(email=email, name=(address.name.strip() or email)[:200]))
            created += 1
        if customer.id != case_requester and customer.id not in found:
            found.append(customer.id)
    return found


def _language(job: _Job, text: str) -> str | None:
    settings = job.deps.settings
    try:
        from ..mail import detect_language

        return detect_language(text, settings.languages, low_accuracy=settings.language_low_accuracy)
    except ImportError:  # the function's package does not carry lingua (the `mail` extra)
        return None


def _open(job: _Job, change: Change, customer: Customer, *, follow_up_of: str | None,
          hint: ThreadHint | None) -> IngestOutcome:
    parsed = job.message
    subject = " ".join(parsed.subject.split())[:300] or NO_SUBJECT
    split_text = job.split().new or parsed.text
    case = Case(
        id=change.new_id(change.now),
        number=job.deps.store.next_case_number(),
        subject=subject,
        channel=Channel.EMAIL,
        requester_id=customer.id,
        requester_name=customer.name,
        language=_language(job, split_text),
        follow_up_of=follow_up_of,
        created_at=change.now,
        updated_at=change.now,
    )
    case = case.model_copy(update={"collaborator_ids": _collaborators(job, change, customer.id, [])})
    first = job.interaction(change, case, customer)
    case = sla_clock.start_clocks(job.deps, case, [first], customer.tier, change.now)
    _write_case(change, None, case, "case.opened")
    change.uow.put_interaction(first)
    change.uow.count(customer.id, cases_total=1, interactions=1)
    summary = f"Case {case.display_number} opened by email: {_excerpt(case.subject, 100)}"
    payload: dict[str, object] = {"status": case.status.value}
    if follow_up_of:
        payload["follow_up_of"] = follow_up_of
    record_timeline_entry(change, _case_event_entry(change, case, summary, **payload))
    record_timeline_entry(change, _interaction_entry(change, case, first))
    change.emit(CaseOpened(case_id=case.id, number=case.number, customer_id=customer.id, channel=case.channel,
                           subject=case.subject, priority=case.priority, team_id=case.team_id,
                           language=case.language), subject=case.id)
    change.count_metric("CasesOpened")
    change.count_metric("InboundMailCaseOpened")
    return job.claim(change, IngestOutcome(
        outcome=Outcome.CASE_OPENED, case_id=case.id, case_number=case.number, interaction_id=first.id,
        customer_id=customer.id, follow_up_of=follow_up_of, thread_source=hint.source.value if hint and
        hint.source else None))


def _reply(job: _Job, change: Change, case: Case, customer: Customer, hint: ThreadHint) -> IngestOutcome:
    interaction = job.interaction(change, case, customer)
    updates: dict[str, object] = {"version": case.version + 1, "updated_at": change.now}
    collaborators = _collaborators(job, change, case.requester_id, case.collaborator_ids)
    if collaborators != case.collaborator_ids:
        updates["collaborator_ids"] = collaborators
    events = []
    reopened = False
    if case.status in (CaseStatus.PENDING, CaseStatus.SOLVED):
        check_transition(case.status, CaseStatus.OPEN)
        updates.update(status=CaseStatus.OPEN, solved_at=None)
        events.append(CaseStatusChanged(case_id=case.id, customer_id=case.requester_id, previous=case.status,
                                        current=CaseStatus.OPEN))
        reopened = case.status is CaseStatus.SOLVED
    updated = case.model_copy(update=updates)
    _write_case(change, case, updated, "case.reply_added")
    change.uow.put_interaction(interaction)
    change.uow.count(case.requester_id, interactions=1)
    record_timeline_entry(change, _interaction_entry(change, updated, interaction))
    if reopened:
        record_timeline_entry(change, _case_event_entry(change, updated, f"{updated.display_number} reopened by "
                                                        "an email reply", by="customer", previous="solved",
                                                        current="open"))
    change.emit(ReplyAdded(case_id=case.id, interaction_id=interaction.id, customer_id=case.requester_id,
                           channel=Channel.EMAIL, author_kind=AuthorKind.CUSTOMER.value), subject=case.id)
    for event in events:
        change.emit(event, subject=case.id)
    if reopened:
        change.emit(CaseReopened(case_id=case.id, customer_id=case.requester_id), subject=case.id)
    change.count_metric("InboundMailReplyAdded")
    return job.claim(change, IngestOutcome(
        outcome=Outcome.REPLY_ADDED, case_id=case.id, case_number=case.number, interaction_id=interaction.id,
        customer_id=customer.id, reopened=reopened, thread_source=hint.source.value if hint.source else None))


# --- machines writing -----------------------------------------------------------------------------------
def _automated(job: _Job) -> IngestOutcome:
    """Auto-replies and read receipts join the case they answer, as they are: no reopening, no events that
    would notify or answer anyone. Without a case they are recorded as rejections."""
    parsed, classification = job.message, job.classification
    assert classification is not None
    receipt = classification.kind is MessageKind.READ_RECEIPT
    ours = classification.receipt.our_message if receipt and classification.receipt else None
    hint = (ThreadHint(case_id=ours.case_id, interaction_id=ours.interaction_id, source="message_id") if ours
            else find_thread(parsed, job.deps.settings.our_domains, job.recipients))
    case = _thread_case(job.deps, hint)
    if case is None:
        reason = RejectionReason.RECEIPT_WITHOUT_CASE if receipt else RejectionReason.AUTO_REPLY_WITHOUT_CASE
        return job.reject(reason, f"{classification.kind.value} that names no case of ours: "
                                  f"{'; '.join(classification.reasons)[:500]}")

    def attempt() -> IngestOutcome:
        current = job.deps.store.get_case(case.id)
        assert current is not None
        change = job.change()
        customer = job.deps.store.get_customer(current.requester_id)
        assert customer is not None
        sender = parsed.sender
        author = Author(kind=AuthorKind.SYSTEM, id=(sender.address if sender else "mailer")[:200],
                        name=((sender.name or sender.address) if sender else "Automatic reply")[:200])
        interaction = job.interaction(change, current, customer, author=author)
        updated = current.model_copy(update={"version": current.version + 1, "updated_at": change.now})
        _write_case(change, current, updated, "case.auto_reply_recorded")
        change.uow.put_interaction(interaction)
        change.uow.count(current.requester_id, interactions=1)
        record_timeline_entry(change, _interaction_entry(change, updated, interaction))
        change.count_metric("InboundMailAutomated")
        outcome = Outcome.RECEIPT_RECORDED if receipt else Outcome.AUTO_REPLY_RECORDED
        return job.claim(change, IngestOutcome(outcome=outcome, case_id=current.id, case_number=current.number,
                                               interaction_id=interaction.id, customer_id=current.requester_id))

    return retrying(3, attempt)


def _bounce(job: _Job) -> IngestOutcome:
    """Mark the message that bounced as bounced, flag the address after a permanent failure, and put the
    bounce on the customer's timeline. A bounce naming nothing of ours is a recorded rejection."""
    from .delivery import mark_delivery

    classification = job.classification
    assert classification is not None and classification.bounce is not None
    bounce = classification.bounce
    ours = bounce.our_message
    detail = "; ".join(f"{r.address}: {r.status or r.action or 'failed'} {r.diagnostic or ''}".strip()
                       for r in bounce.recipients)[:2000] or "; ".join(classification.reasons)[:2000]
    case: Case | None = None
    bounced: Interaction | None = None
    if ours is not None:
        case = job.deps.store.get_case(ours.case_id)
        if case is not None and bounce.permanent:  # a delay report says it may still arrive
            try:
                bounced = mark_delivery(job.deps, ours.case_id, ours.interaction_id, DeliveryStatus.BOUNCED,
                                        detail or "returned as undeliverable")
            except NotFound:
                bounced = None
    failed = [a.lower() for a in bounce.failed_addresses]
    owners = {a: job.deps.store.customer_for_identity("email", a) for a in failed}
    customer_ids = [c for c in dict.fromkeys(owners.values()) if c]
    if case is None and not customer_ids:
        return job.reject(RejectionReason.BOUNCE_NOT_OURS, f"a bounce naming no message or customer of ours: "
                                                           f"{detail}"[:2000])
    if case is not None and case.requester_id not in customer_ids:
        customer_ids.insert(0, case.requester_id)

    def attempt() -> IngestOutcome:
        change = job.change()
        raw_ref = job.store_raw(case.id) if case is not None else None
        for customer_id in customer_ids[:10]:
            customer = job.deps.store.get_customer(customer_id)
            if customer is None:
                continue
            flagged = [a for a in failed if owners.get(a) == customer_id and a not in customer.bouncing_emails]
            if bounce.permanent and flagged:
                updated = customer.model_copy(update={
                    "bouncing_emails": [*customer.bouncing_emails, *flagged][:20],
                    "version": customer.version + 1, "updated_at": change.now})
                change.uow.put_customer(updated, expected_version=customer.version,
                                        error=lambda: VersionConflict("the customer changed; try again"))
                change.audit("customer", customer.id, "customer.email_bouncing",
                             {"bouncing_emails": FieldChange(before=customer.bouncing_emails,
                                                             after=updated.bouncing_emails)})
            what = "Mail bounced" if bounce.permanent else "Mail delayed"
            where = f" on {case.display_number}" if case is not None else ""
            record_timeline_entry(change, TimelineEntry(
                id=change.new_id(change.now), customer_id=customer_id,
                kind=TimelineKind.CASE_EVENT if case is not None else TimelineKind.PROFILE_CHANGE,
                channel=Channel.EMAIL, occurred_at=change.now, case_id=case.id if case is not None else None,
                summary=f"{what}{where}: {_excerpt(detail, 300)}"[:500],
                payload={"bounce": True, "permanent": bounce.permanent, "failed_addresses": failed[:20],
                         "interaction_id": ours.interaction_id if ours else None,
                         "raw_key": raw_ref.key if raw_ref else None, "detail": detail[:1000]},
            ))
        change.count_metric("InboundMailBounce")
        return job.claim(change, IngestOutcome(
            outcome=Outcome.BOUNCE_RECORDED, case_id=case.id if case is not None else None,
            case_number=case.number if case is not None else None,
            interaction_id=bounced.id if bounced is not None else None,
            customer_id=customer_ids[0] if customer_ids else None,
            reason="permanent" if bounce.permanent else "delayed"))

    return retrying(3, attempt)


def _complaint(job: _Job) -> IngestOutcome:
    """An abuse report (ARF) about mail we sent goes on the case as an internal note; any other is rejected."""
    classification = job.classification
    assert classification is not None
    abuse = classification.abuse
    ours = abuse.our_message if abuse else None
    case = job.deps.store.get_case(ours.case_id) if ours else None
    if case is None:
        return job.reject(RejectionReason.ABUSE_REPORT, "an abuse report about mail that is not ours: "
                                                        f"{abuse.feedback_type if abuse else 'unknown'}")

    def attempt() -> IngestOutcome:
        current = job.deps.store.get_case(case.id)
        customer = job.deps.store.get_customer(current.requester_id) if current else None
        assert current is not None and customer is not None
        change = job.change()
        author = Author(kind=AuthorKind.SYSTEM, id="abuse-report", name="Abuse report")
        interaction = job.interaction(change, current, customer, visibility=Visibility.INTERNAL, author=author)
        updated = current.model_copy(update={"version": current.version + 1, "updated_at": change.now})
        _write_case(change, current, updated, "case.complaint_recorded")
        change.uow.put_interaction(interaction)
        record_timeline_entry(change, _interaction_entry(change, updated, interaction))
        return job.claim(change, IngestOutcome(outcome=Outcome.COMPLAINT_RECORDED, case_id=current.id,
                                               case_number=current.number, interaction_id=interaction.id,
                                               customer_id=current.requester_id))

    return retrying(3, attempt)
