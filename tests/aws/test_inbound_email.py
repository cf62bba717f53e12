"""The inbound_email function on moto: SES's receipt rule stored the raw message in S3, then invoked the function.

Each test does what SES does: put the test message's bytes at `inbound/<SES message id>` in the inbound bucket,
then call the handler with the Lambda action's event (the shape of the SES developer guide's
"Lambda action" example: Records[].ses.mail and .receipt with the verdicts). The table is DynamoDB on moto and
the attachments store is S3 on moto, so what the assertions read is what the function wrote through real
adapters.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from caseline import bootstrap
from caseline.adapters.aws.dynamodb_table import DynamoDbTable, create_table
from caseline.adapters.mail_records import MailRecords
from caseline.mail.threading import make_message_id
from caseline.ports.blobs import BlobNotFound
from caseline.runtime.gateway import LocalLambdaContext, load_handler
from caseline.runtime.server import FUNCTIONS_DIR
from caseline.settings import Settings

from ..conftest import REGION

pytestmark = pytest.mark.aws
MESSAGES = Path(__file__).resolve().parents[1] / "mail" / "messages"
SUPPORT = "support@help.example.com"
INBOUND_BUCKET = "caseline-inbound-test"
ATTACHMENTS_BUCKET = "caseline-attachments-test"
# What ingestion may make of a message: every one of them is something an agent or an admin can find.
RECORDED = {"case_opened", "reply_added", "auto_reply_recorded", "receipt_recorded", "bounce_recorded",
            "complaint_recorded", "rejected"}


@dataclass
class Inbound:
    platform: bootstrap.Platform
    s3: object
    handler: object

    def deliver(self, raw: bytes, *, message_id: str | None = None, recipients: tuple[str, ...] = (SUPPORT,),
                virus: str = "PASS", spam: str = "PASS", store: bool = True) -> dict:
        """Store the message as SES's S3 action does and invoke the function as its Lambda action does."""
        message_id = message_id or uuid.uuid4().hex
        if store:
            self.s3.put_object(Bucket=INBOUND_BUCKET, Key=f"inbound/{message_id}", Body=raw)
        event = ses_event(message_id, list(recipients), virus=virus, spam=spam)
        context = LocalLambdaContext(function_name="inbound_email", aws_request_id=str(uuid.uuid4()))
        return self.handler(event, context)["outcomes"][0]

    def file(self, name: str, **options: object) -> dict:
        return self.deliver((MESSAGES / name).read_bytes(), **options)  # type: ignore[arg-type]


def ses_event(message_id: str, recipients: list[str], *, virus: str = "PASS", spam: str = "PASS") -> dict:
    return {"Records": [{
        "eventSource": "aws:ses",
        "eventVersion": "1.0",
        "ses": {
            "mail": {
                "timestamp": "2026-11-02T09:30:00.000Z",
                "source": "ann@example.org",
                "messageId": message_id,
                "destination": recipients,
                "headersTruncated": False,
                "headers": [{"name": "From", "value": "Ann Example <ann@example.org>"}],
                "commonHeaders": {"returnPath": "ann@example.org", "from": ["Ann Example <ann@example.org>"],
                                  "date": "Mon, 2 Nov 2026 10:15:00 +0100", "to": recipients,
                                  "messageId": "<m1.20261102@mail.example.org>", "subject": "Printer"},
            },
            "receipt": {
                "timestamp": "2026-11-02T09:30:00.000Z",
                "processingTimeMillis": 412,
                "recipients": recipients,
                "spamVerdict": {"status": spam},
                "virusVerdict": {"status": virus},
                "spfVerdict": {"status": "PASS"},
                "dkimVerdict": {"status": "GRAY"},
                "dmarcVerdict": {"status": "PASS"},
                "action": {"type": "Lambda", "invocationType": "Event",
                           "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:inbound_email"},
            },
        },
    }]}  # fmt: skip


@pytest.fixture
def inbound(aws, monkeypatch, clock) -> Iterator[Inbound]:
    environment = {"ADAPTERS": "aws", "TABLE_NAME": "caseline", "INBOUND_MAIL_BUCKET": INBOUND_BUCKET,
                   "ATTACHMENTS_BUCKET": ATTACHMENTS_BUCKET, "SUPPORT_ADDRESSES": SUPPORT,
                   "LANGUAGE_LOW_ACCURACY": "true", "MAIL_RATE_LIMIT": "1000"}
    for name, value in environment.items():
        monkeypatch.setenv(f"CASELINE_{name}", value)
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in (INBOUND_BUCKET, ATTACHMENTS_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_table(dynamodb, "caseline")
    settings = Settings.from_env()
    built = bootstrap.build(settings, table=DynamoDbTable("caseline", client=dynamodb), clock=clock,
                            idempotency=DynamoDBPersistenceLayer(table_name="unused", boto3_client=dynamodb))
    bootstrap.use(built)
    yield Inbound(built, s3, load_handler(FUNCTIONS_DIR, "inbound_email"))
    bootstrap.use(None)


def _interactions(platform: bootstrap.Platform, case_id: str) -> list:
    return platform.deps.store.interactions_of([case_id], limit=50, cursor=None).items


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_new_message_opens_a_case_with_its_text_and_keeps_the_raw_message(inbound: Inbound) -> None:
    raw = (MESSAGES / "plain_utf8.eml").read_bytes()
    outcome = inbound.deliver(raw, message_id="o3vrnil0e2ic28trm7dfhrc2v0cnbp0g1")
    assert outcome["outcome"] == "case_opened"
    case = inbound.platform.deps.store.get_case(outcome["case_id"])
    assert case is not None and case.subject == "Printer stops after two pages"
    assert case.channel.value == "email"
    [interaction] = _interactions(inbound.platform, case.id)
    assert interaction.id == outcome["interaction_id"]
    assert "my printer stops after two pages" in interaction.text and "Köln" in interaction.text
    assert interaction.email is not None and interaction.email.message_id == "m1.20261102@mail.example.org"
    # the whole original is kept in the attachments store, byte for byte
    stored = inbound.s3.get_object(Bucket=ATTACHMENTS_BUCKET, Key=interaction.raw_ref.key)["Body"].read()
    assert stored == raw and interaction.raw_ref.sha256 == _sha256(raw)
    customer = inbound.platform.deps.store.get_customer(case.requester_id)
    assert customer is not None and "ann@example.org" in customer.emails


def test_the_same_ses_event_twice_creates_one_interaction(inbound: Inbound) -> None:
    first = inbound.file("plain_utf8.eml", message_id="retried0001")
    again = inbound.file("plain_utf8.eml", message_id="retried0001")
    assert first["outcome"] == "case_opened"
    assert again["outcome"] == "duplicate" and again["first_outcome"] == "case_opened"
    assert again["case_id"] == first["case_id"]
    assert len(_interactions(inbound.platform, first["case_id"])) == 1
    # another SES delivery (another message id) of the same bytes is another message
    other = inbound.file("plain_utf8.eml", message_id="retried0002")
    assert other["outcome"] == "case_opened" and other["case_id"] != first["case_id"]


def test_a_reply_carrying_the_case_token_joins_the_case(inbound: Inbound) -> None:
    opened = inbound.file("plain_utf8.eml")
    number = opened["case_number"]
    reply = (f"From: Ann Example <ann@example.org>\r\nTo: {SUPPORT}\r\nSubject: Re: Printer stops [#{number}]\r\n"
             "Message-ID: <m2.20261102@mail.example.org>\r\nIn-Reply-To: <m1.20261102@mail.example.org>\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             "It happens with the other tray too.\r\n\r\nOn Mon, 2 Nov 2026 Support wrote:\r\n> What tray?\r\n")
    joined = inbound.deliver(reply.encode())
    assert joined["outcome"] == "reply_added" and joined["case_id"] == opened["case_id"]
    texts = [i.text for i in _interactions(inbound.platform, opened["case_id"])]
    assert any(t.startswith("It happens with the other tray too.") and "What tray?" not in t for t in texts)
    assert len(texts) == 2


def test_a_reply_to_one_of_our_message_ids_joins_that_case_without_a_token(inbound: Inbound) -> None:
    opened = inbound.file("plain_utf8.eml")
    ours = make_message_id(opened["case_id"], opened["interaction_id"], "help.example.com")
    reply = (f"From: Ann Example <ann@example.org>\r\nTo: {SUPPORT}\r\nSubject: Re: your answer\r\n"
             f"Message-ID: <m3.20261102@mail.example.org>\r\nIn-Reply-To: {ours}\r\nReferences: {ours}\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThanks, that fixed it.\r\n")
    joined = inbound.deliver(reply.encode())
    assert joined["outcome"] == "reply_added" and joined["case_id"] == opened["case_id"]
    assert joined["thread_source"]  # which evidence threaded it is recorded


def test_a_bounce_of_our_notification_flags_the_customers_address(inbound: Inbound) -> None:
    opened = inbound.file("plain_utf8.eml")
    bounce = (MESSAGES / "bounce_postfix.eml").read_bytes()
    bounce = bounce.replace(b"gone@example.org", b"ann@example.org")
    bounce = bounce.replace(b"01JC2Q9W3S7K8M4N5P6R7T8V9X", opened["case_id"].encode())
    bounce = bounce.replace(b"01JC2QB4D6F8G0H2J4K6M8N0P2", opened["interaction_id"].encode())
    outcome = inbound.deliver(bounce)
    assert outcome["outcome"] == "bounce_recorded" and outcome["case_id"] == opened["case_id"]
    customer = inbound.platform.deps.store.get_customer(outcome["customer_id"])
    assert customer is not None and "ann@example.org" in customer.bouncing_emails
    assert len(_interactions(inbound.platform, opened["case_id"])) == 1  # a bounce is no reply


def test_attachments_and_inline_images_are_stored_with_type_size_and_checksum(inbound: Inbound) -> None:
    outcome = inbound.file("inline_image_and_pdf.eml")
    assert outcome["outcome"] == "case_opened"
    [interaction] = _interactions(inbound.platform, outcome["case_id"])
    types = sorted(a.content_type for a in interaction.attachments)
    assert "application/pdf" in types and any(t.startswith("image/") for t in types)
    for attachment in interaction.attachments:
        body = inbound.s3.get_object(Bucket=ATTACHMENTS_BUCKET, Key=attachment.key)["Body"].read()
        assert len(body) == attachment.size and _sha256(body) == attachment.sha256


def test_a_message_ses_found_a_virus_in_is_rejected_and_recorded(inbound: Inbound) -> None:
    outcome = inbound.file("plain_utf8.eml", virus="FAIL")
    assert outcome["outcome"] == "rejected" and outcome["reason"] == "virus"
    assert "case_id" not in outcome
    rejection = MailRecords(inbound.platform.deps.store).get_rejection(outcome["rejection_id"])
    assert rejection is not None and rejection.sender == "ann@example.org"
    assert rejection.verdicts["virus"] == "FAIL" and rejection.verdicts["spf"] == "PASS"
    assert rejection.verdicts["dkim"] == "GRAY"


def test_mail_for_an_address_that_is_not_ours_is_rejected(inbound: Inbound) -> None:
    outcome = inbound.file("plain_utf8.eml", recipients=("someone@elsewhere.example",))
    assert outcome["outcome"] == "rejected" and outcome["reason"] == "not_for_us"


def test_auto_replies_and_bounces_never_open_a_case(inbound: Inbound) -> None:
    for name in ("ooo_exchange.eml", "ooo_suppress_only.eml", "bounce_postfix.eml", "bounce_ses.eml", "mdn.eml"):
        outcome = inbound.file(name)
        assert outcome["outcome"] in RECORDED - {"case_opened", "reply_added"}, (name, outcome)


def test_a_missing_object_raises_so_lambda_retries_and_nothing_is_recorded(inbound: Inbound) -> None:
    with pytest.raises(BlobNotFound):
        inbound.deliver(b"", message_id="never-stored", store=False)
    assert MailRecords(inbound.platform.deps.store).outcome_for("never-stored") is None
    # when the object does arrive (S3 was late), the retried event ingests it
    assert inbound.file("plain_utf8.eml", message_id="never-stored")["outcome"] == "case_opened"


@pytest.mark.slow  # about 50 messages through ingestion on moto: a minute on a quiet 2-core machine
def test_every_test_message_ends_in_a_case_an_interaction_or_a_recorded_rejection(inbound: Inbound) -> None:
    store = inbound.platform.deps.store
    records = MailRecords(store)
    names = sorted(path.name for path in MESSAGES.glob("*.eml"))
    assert len(names) >= 40
    for name in names:
        outcome = inbound.file(name)
        assert outcome["outcome"] in RECORDED, (name, outcome)
        if outcome["outcome"] == "rejected":
            assert records.get_rejection(outcome["rejection_id"]) is not None, name
        elif outcome.get("interaction_id"):
            assert store.get_interaction(outcome["case_id"], outcome["interaction_id"]) is not None, name
        else:
            assert outcome.get("case_id") or outcome.get("customer_id"), (name, outcome)


def test_raw_mail_is_read_from_its_own_store_on_either_runtime(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CASELINE_INBOUND_MAIL_BUCKET"):
        bootstrap.inbound_mail_blobs(Settings(adapters="aws"))
    on_aws = bootstrap.inbound_mail_blobs(Settings(adapters="aws", inbound_mail_bucket=INBOUND_BUCKET,
                                                   attachments_bucket=ATTACHMENTS_BUCKET))
    assert on_aws.bucket == INBOUND_BUCKET  # type: ignore[attr-defined]
    local = bootstrap.inbound_mail_blobs(Settings(data_dir=tmp_path))
    local.put("inbound/abc", b"raw", content_type="message/rfc822")
    assert local.get("inbound/abc").data == b"raw"
    assert (tmp_path / "inbound-mail").is_dir() and not (tmp_path / "blobs").exists()
