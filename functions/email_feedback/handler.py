"""SNS (the SES configuration set's event destination) → delivery state on the interaction that was sent.

Delivery → delivered, Bounce → bounced (a permanent bounce flags the address), Reject → failed, Complaint →
the customer is flagged; services/delivery.py applies each once. A record that cannot be read fails the
invocation, so Lambda retries it and then hands it to the subscription's dead-letter destination.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from caseline import bootstrap, tracing
from caseline.adapters.aws.mail_ses_feedback import report_from_sns
from caseline.services.delivery import apply_provider_report

logger = Logger(service="email-feedback")
tracer = Tracer(service="email-feedback", patch_modules=tracing.PATCHED)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: object) -> dict:
    applied = skipped = 0
    for record in event.records:
        report = report_from_sns(record.sns.message, record.sns.message_id)
        if report is None:
            skipped += 1
            continue
        outcome = apply_provider_report(bootstrap.deps(), report)
        logger.info("feedback", kind=report.kind, provider_id=report.provider_id, case_id=outcome.case_id,
                    interaction_id=outcome.interaction_id, status=outcome.status, duplicate=outcome.duplicate)
        applied += 1
    return {"applied": applied, "skipped": skipped}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
