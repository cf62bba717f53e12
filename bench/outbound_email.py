"""Outbound email on one machine: agent replies through the outbox dispatcher and the outbound-email consumer
into the maildir, on the embedded adapters (SQLite). Per reply: read the interaction and case, look up the
customer's last inbound message, compose text + HTML (+ an attachment from the blob store for every fifth
reply), write the maildir file, mark the interaction sent with its provider lookup and the delivery event.

    .venv/bin/python bench/outbound_email.py [--replies 500]
    .venv/bin/python bench/outbound_email.py --smoke

Prints replies/s for the dispatch pass and the per-reply time of the consumer (median, p95).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from _common import load_average, machine, markdown_table, ms, percentile, sqlite_platform
from caseline.adapters.embedded.mail_maildir import MaildirMailSender
from caseline.adapters.embedded.outbox_dispatcher import OutboxDispatcher
from caseline.consumers import Consumer
from caseline.consumers.outbound_email import outbound_email_consumer
from caseline.domain.auth import Principal, Role
from caseline.domain.common import Channel
from caseline.domain.interaction import AttachmentRef, DeliveryStatus
from caseline.ports.clock import SystemClock
from caseline.services import cases
from caseline.services.attachments import attachment_key
from caseline.services.commands import AddReply, CustomerRef, OpenCase
from caseline.services.context import Request

AGENT = Request(principal=Principal(subject="bench", role=Role.ADMIN, agent_id="01J00000000000000000000AGT",
                                    name="Bench Agent"), request_id="bench")
TEXT = ("Hello,\n\nthanks for the details. Please update the firmware to 4.2 and restart the hub; "
        "the pairing issue is fixed there.\n\nBest regards") * 2


def run(replies: int) -> None:
    with sqlite_platform(SystemClock()) as platform:
        deps = platform.deps
        sender = MaildirMailSender(Path(platform.settings.data_dir) / "mail" / "outbox")
        pdf = b"%PDF-1.4 " + bytes(40_000)
        interactions = []
        for n in range(replies):
            case = cases.open_case(deps, AGENT, OpenCase(
                channel=Channel.EMAIL, subject=f"Hub offline #{n}", text="It went offline.",
                requester=CustomerRef(email=f"c{n}@customer.example", name=f"Customer {n}")))
            attachments = []
            if n % 5 == 0:
                sha = hashlib.sha256(pdf).hexdigest()
                key = attachment_key(case.id, sha, "guide.pdf")
                deps.blobs.put(key, pdf, content_type="application/pdf")
                attachments = [AttachmentRef(key=key, filename="guide.pdf", content_type="application/pdf",
                                             size=len(pdf), sha256=sha)]
            interactions.append(cases.add_reply(deps, AGENT, case.id, AddReply(text=TEXT, attachments=attachments)))
        inner = outbound_email_consumer(sender)
        timings: list[float] = []

        def timed(deps_, event) -> None:
            started = time.perf_counter()
            inner.handle(deps_, event)
            timings.append(time.perf_counter() - started)

        consumer = Consumer(inner.name, inner.event_types, timed, inner.give_up)
        dispatcher = OutboxDispatcher(platform.table, deps, [consumer])
        started = time.perf_counter()
        dispatcher.drain()
        elapsed = time.perf_counter() - started
        sent = sum(1 for i in interactions
                   if deps.store.get_interaction(i.case_id, i.id).delivery_status is DeliveryStatus.SENT)
        assert sent == replies == len(sender.sent(limit=replies + 1)), (sent, replies)
        print(f"machine: {machine()}, {load_average()}")
        print(markdown_table(
            ["replies", "dispatch pass", "replies/s", "consumer median (ms)", "consumer p95 (ms)"],
            [[replies, f"{elapsed:.2f} s", f"{replies / elapsed:.0f}", ms(percentile(timings, 50)),
              ms(percentile(timings, 95))]]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=500)
    parser.add_argument("--smoke", action="store_true", help="a few replies, to check the script runs")
    args = parser.parse_args()
    run(10 if args.smoke else args.replies)


if __name__ == "__main__":
    main()
