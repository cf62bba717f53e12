"""Sending through an SMTP relay (a company smarthost, a provider's submission port) with the stdlib.

For running Caseline on one machine with real outbound mail. Host, port, STARTTLS and credentials come from
Settings (`smtp_*`). The provider id is the relay's queue id when its final reply names one ("250 2.0.0 Ok:
queued as 4Qx…"), else our Message-ID, so a bounce can still be tied back.
"""

from __future__ import annotations

import re
import smtplib
import ssl

from ...ports.mail import MailSender, MailSendError, OutgoingMail

_QUEUED_AS = re.compile(rb"queued as\s+<?([^\s>]+)", re.I)


class SmtpRelayMailSender(MailSender):
    provider = "smtp"

    def __init__(self, host: str, port: int = 587, *, starttls: bool = True, username: str | None = None,
                 password: str | None = None, timeout: float = 30.0, local_hostname: str | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.local_hostname = local_hostname
        self.tls_context = tls_context  # None: the system's trusted CAs, with host name checks

    def _send(self, message: OutgoingMail) -> str:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                code, reply = smtp.mail(message.sender)
                if code != 250:
                    raise MailSendError(f"relay refused the sender: {code} {reply!r}", permanent=code >= 500)
                refused = {}
                for recipient in message.recipients:
                    code, reply = smtp.rcpt(recipient)
                    if code not in (250, 251):
                        refused[recipient] = (code, reply)
                if len(refused) == len(message.recipients):
                    codes = {code for code, _ in refused.values()}
                    raise MailSendError(f"relay refused every recipient: {sorted(codes)}",
                                        permanent=all(c >= 500 for c in codes))
                code, reply = smtp.data(message.raw)
                if code != 250:
                    raise MailSendError(f"relay refused the message: {code} {reply!r}", permanent=code >= 500)
        except smtplib.SMTPResponseException as exc:
            raise MailSendError(f"relay said {exc.smtp_code} {exc.smtp_error!r}",
                                permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailSendError(f"could not reach the relay {self.host}:{self.port}: {exc}") from exc
        queued = _QUEUED_AS.search(reply or b"")
        return queued.group(1).decode("ascii", "replace") if queued else message.message_id.strip("<>")
