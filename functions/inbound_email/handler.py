"""SES receipt rule → the inbound-mail service. The rule's S3 action stored the raw message at
<prefix><SES message id> in the inbound bucket; this Lambda action (invoked as an event) reads it and ingests it.

SES's verdicts travel with the message: a virus or spam FAIL becomes a recorded rejection. The SES message id is
the idempotency key, so a retried event adds nothing. Anything that fails (the object missing, the table
unreachable) raises: Lambda retries the event, then hands it to the function's on-failure queue.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from datetime import datetime

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import SESEvent, event_source
from aws_lambda_powertools.utilities.data_classes.ses_event import SESReceipt
from caseline import bootstrap, tracing
from caseline.ports.blobs import BlobStore
from caseline.services import inbound_mail

logger = Logger(service="inbound-email")
tracer = Tracer(service="inbound-email", patch_modules=tracing.PATCHED)
_raw_mail: BlobStore | None = None


def raw_mail() -> BlobStore:
    global _raw_mail
    if _raw_mail is None:
        _raw_mail = bootstrap.inbound_mail_blobs(bootstrap.platform().settings)
    return _raw_mail


def verdicts(receipt: SESReceipt) -> dict[str, str]:
    checks = {"spam": "spamVerdict", "virus": "virusVerdict", "spf": "spfVerdict", "dkim": "dkimVerdict",
              "dmarc": "dmarcVerdict"}
    return {name: str(receipt[field]["status"]) for name, field in checks.items() if field in receipt}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=SESEvent)
def lambda_handler(event: SESEvent, context: object) -> dict:
    deps = bootstrap.deps()
    outcomes = []
    for record in event.records:
        mail, receipt = record.ses.mail, record.ses.receipt
        raw = raw_mail().get(deps.settings.inbound_mail_prefix + mail.message_id).data  # BlobNotFound: retried
        outcome = inbound_mail.ingest(deps, raw, recipients=list(receipt.recipients), source_id=mail.message_id,
                                      received_at=datetime.fromisoformat(mail.timestamp), verdicts=verdicts(receipt),
                                      envelope_sender=mail.source)
        logger.info("ingested", ses_message_id=mail.message_id, outcome=outcome.outcome.value,
                    case_id=outcome.case_id, interaction_id=outcome.interaction_id, reason=outcome.reason)
        outcomes.append(outcome.model_dump(mode="json", exclude_none=True))
    return {"outcomes": outcomes}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
