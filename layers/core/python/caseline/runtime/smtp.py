"""The SMTP server `caseline dev` receives support mail on (aiosmtpd, 127.0.0.1:2525 by default).

It is the one-machine stand-in for SES's receipt rule: it accepts mail for the configured support addresses
(plus-addressed variants included) and hands each message's bytes and RCPT TO list to the same ingestion
service the inbound_email function calls in AWS.

- RCPT TO an address that is not ours → `550 5.1.1`; a message over `mail_max_bytes` → `552` (aiosmtpd's
  SIZE/data limit, announced in EHLO).
- Ingestion runs on a worker thread pool, never on the event loop, so a slow message (the first one loads
  the language models) does not stall other connections. The 250 reply is sent after the message is stored.
- A failure inside ingestion answers `451` (try again later): the client keeps the message, and a retry of
  the same bytes is recognised by their SHA-256, the source id, so it is stored once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from ..services.context import Deps
from ..services.inbound_mail import IngestOutcome, ingest, source_id_for

log = logging.getLogger(__name__)


def is_support_address(address: str, support_addresses: list[str]) -> bool:
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return False
    ours = {a.lower() for a in support_addresses}
    return f"{local}@{domain}" in ours or f"{local.split('+', 1)[0]}@{domain}" in ours


class InboundHandler:
    """aiosmtpd handler: check recipients, hand accepted messages to `ingest` off the event loop."""

    def __init__(self, deps: Deps, executor: ThreadPoolExecutor,
                 on_ingested: Callable[[IngestOutcome], None] | None = None) -> None:
        self.deps = deps
        self.executor = executor
        self.on_ingested = on_ingested

    async def handle_RCPT(self, server: Any, connection: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if not is_support_address(address, self.deps.settings.support_addresses):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, connection: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        received_at = datetime.now(UTC)
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(self.executor, self._ingest, raw, list(envelope.rcpt_tos),
                                                 received_at, envelope.mail_from)
        except Exception:
            log.exception("inbound mail from %s could not be stored", envelope.mail_from)
            return "451 4.3.0 Could not store the message; try again later"
        # What the message became, for the sender's log (and the tests and benchmark that read it).
        target = outcome.case_id or outcome.rejection_id or "-"
        number = f" #{outcome.case_number}" if outcome.case_number else ""
        return f"250 2.0.0 OK {outcome.outcome.value} {target}{number}"

    def _ingest(self, raw: bytes, recipients: list[str], received_at: datetime,
                mail_from: str | None = None) -> IngestOutcome:
        outcome = ingest(self.deps, raw, recipients=recipients, source_id=source_id_for(raw),
                         received_at=received_at, envelope_sender=mail_from)
        if self.on_ingested is not None:
            self.on_ingested(outcome)
        return outcome


class LenientSMTP(SMTP):
    """RFC 5321 caps lines at 1,000 octets, but senders of HTML mail often break it; Postfix accepts such lines
    too. We take lines up to 64 KB rather than refuse a customer's message over its formatting."""

    line_length_limit = 65_536


class _Controller(Controller):
    """aiosmtpd's controller, able to serve connections another process accepted (`caseline dev --workers N`)."""

    def __init__(self, handler: Any, *, handed: bool = False, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.handed = handed

    def factory(self) -> SMTP:
        return LenientSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Any:
        if not self.handed:
            return super()._create_server()
        # The controller's life cycle wants a server of its own; connections come through `adopt`, so it
        # listens on a loopback port nobody is told about.
        return self.loop.create_server(self._factory_invoker, host="127.0.0.1", port=0)

    def _trigger_server(self) -> None:
        # The controller checks its factory by connecting to its own port; with handed connections it builds
        # one protocol object on the loop instead.
        if not self.handed:
            super()._trigger_server()
            return
        self.loop.call_soon_threadsafe(self._factory_invoker)


class SmtpServer:
    """Start/stop wrapper: aiosmtpd runs its own event loop on a thread of its own."""

    def __init__(self, deps: Deps, *, host: str | None = None, port: int | None = None,
                 on_ingested: Callable[[IngestOutcome], None] | None = None, handed: bool = False) -> None:
        settings = deps.settings
        self.host = host or settings.smtp_host
        self.port = settings.smtp_port if port is None else port
        self.executor = ThreadPoolExecutor(max_workers=settings.smtp_ingest_threads, thread_name_prefix="smtp-ingest")
        self.handler = InboundHandler(deps, self.executor, on_ingested)
        self.controller = _Controller(
            self.handler, hostname=self.host, port=self.port, server_hostname="caseline.localhost",
            data_size_limit=settings.mail_max_bytes, enable_SMTPUTF8=True, decode_data=False,
            handed=handed,
        )

    def start(self) -> None:
        self.controller.start()

    def adopt(self, connection: socket.socket) -> None:
        """Serve a connection the primary accepted (`--workers N`; see `workers.Workers.hand_out_smtp`)."""
        controller = self.controller
        connection.setblocking(False)
        asyncio.run_coroutine_threadsafe(
            controller.loop.connect_accepted_socket(controller._factory_invoker, connection), controller.loop)

    def stop(self) -> None:
        try:
            self.controller.stop()
        finally:
            self.executor.shutdown(wait=True, cancel_futures=False)


def start_for_dev(deps: Deps, notify: Callable[[], None], *, handed: bool = False,
                  quiet: bool = False) -> SmtpServer | None:
    """Start the SMTP server for `caseline dev`; a busy port is reported, not fatal (the API still runs).

    `handed`: a worker of `caseline dev --workers N`, which serves the connections the primary accepts on the
    SMTP port and hands out in turn (`SmtpServer.adopt`).
    """
    server = SmtpServer(deps, on_ingested=lambda _outcome: notify(), handed=handed)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.executor.shutdown(wait=False)
        print(f"  SMTP              not started: {server.host}:{server.port} is not available ({exc}); "
              "set CASELINE_SMTP_PORT")
        return None
    threading.Thread(target=_warm_language_detector, args=(deps,), name="language-warm-up", daemon=True).start()
    if not quiet:
        addresses = ", ".join(deps.settings.support_addresses)
        print(f"  SMTP (inbound)    smtp://{server.host}:{server.port}  accepting mail for {addresses}")
    return server


def _warm_language_detector(deps: Deps) -> None:
    """Load the language models now rather than while the first message waits (seconds, see docs/email.md)."""
    settings = deps.settings
    try:
        from ..mail import detect_language

        detect_language("Hello, this sentence loads the language models.", settings.languages,
                        low_accuracy=settings.language_low_accuracy)
    except ImportError:
        return
