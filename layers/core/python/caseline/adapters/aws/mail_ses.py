"""Sending through Amazon SES v2 as a raw message, in a configuration set whose event destination reports
bounces, complaints, deliveries and rejects back to us (functions/email_feedback)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ...ports.mail import MailSender, MailSendError, OutgoingMail
from .clients import client as aws_client

# Errors that sending the same message again will not cure.
_PERMANENT = frozenset({"MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException",
                        "SendingPausedException", "BadRequestException", "NotFoundException"})


class SesMailSender(MailSender):
    provider = "ses"

    def __init__(self, configuration_set: str, *, region: str | None = None, client: Any = None) -> None:
        self.configuration_set = configuration_set
        self.region = region
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("sesv2", region_name=self.region)
        return self._client

    def _send(self, message: OutgoingMail) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": message.sender,
            "Destination": {"ToAddresses": list(message.recipients)},
            "Content": {"Raw": {"Data": message.raw}},
            "ConfigurationSetName": self.configuration_set,
        }
        if message.tags:
            request["EmailTags"] = [{"Name": k, "Value": v} for k, v in sorted(message.tags.items())]
        try:
            response = self.client.send_email(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise MailSendError(f"SES refused the message: {code}: {exc}", permanent=code in _PERMANENT) from exc
        except BotoCoreError as exc:
            raise MailSendError(f"could not reach SES: {exc}") from exc
        return str(response.get("MessageId", ""))
