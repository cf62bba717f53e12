"""SES feedback as SNS delivers it: a configuration set's event destination (`eventType`) or an identity's
notification topic (`notificationType`), read into the port's `ProviderReport`.

Only the fields we act on are read; everything else in the notification (headers, DKIM results, the
reporting MTA) is left to CloudWatch. Types other than Bounce, Complaint, Delivery and Reject (Send, Open,
Click, DeliveryDelay, Rendering Failure, Subscription) answer None.
"""

from __future__ import annotations

import json
from typing import Any

from ...ports.mail import ProviderReport

KINDS = {"bounce": "bounce", "complaint": "complaint", "delivery": "delivery", "reject": "reject"}


class NotAFeedbackNotification(ValueError):
    """The SNS message is not an SES notification we can read."""


def report_from_sns(message: str, sns_message_id: str) -> ProviderReport | None:
    try:
        body: Any = json.loads(message)
    except ValueError as exc:
        raise NotAFeedbackNotification("the SNS message is not JSON") from exc
    if not isinstance(body, dict):
        raise NotAFeedbackNotification("the SNS message is not a JSON object")
    kind = KINDS.get(str(body.get("eventType") or body.get("notificationType") or "").lower())
    if kind is None:
        return None
    mail = body.get("mail")
    if not isinstance(mail, dict) or not mail.get("messageId"):
        raise NotAFeedbackNotification(f"a {kind} notification without mail.messageId")
    section = body.get(kind) if isinstance(body.get(kind), dict) else {}
    recipients: list[str] = []
    detail = ""
    permanent = False
    if kind == "bounce":
        bounced = [r for r in section.get("bouncedRecipients", []) if isinstance(r, dict)]
        recipients = [str(r.get("emailAddress", "")) for r in bounced]
        permanent = section.get("bounceType") == "Permanent"
        reasons = "; ".join(f"{r.get('emailAddress')}: {r.get('status') or r.get('action') or 'failed'} "
                            f"{r.get('diagnosticCode') or ''}".strip() for r in bounced)
        detail = f"{section.get('bounceType', 'Undetermined')}/{section.get('bounceSubType', 'General')}"
        detail += f": {reasons}" if reasons else ""
    elif kind == "complaint":
        recipients = [str(r.get("emailAddress", "")) for r in section.get("complainedRecipients", [])
                      if isinstance(r, dict)]
        detail = f"complaint: {section.get('complaintFeedbackType') or 'not given'}"
    elif kind == "delivery":
        recipients = [str(r) for r in section.get("recipients", [])]
        detail = str(section.get("smtpResponse", ""))
    else:
        detail = f"rejected by SES: {section.get('reason') or 'no reason given'}"
        permanent = True
    return ProviderReport(provider="ses", provider_id=str(mail["messageId"]), kind=kind,
                          report_id=str(section.get("feedbackId") or sns_message_id),
                          recipients=tuple(r.lower() for r in recipients if r), permanent=permanent,
                          detail=detail[:2000])
