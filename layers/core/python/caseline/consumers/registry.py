"""Which consumers run where. Later capabilities (search indexer, SLA clock, notifications) add theirs."""

from __future__ import annotations

from ..ports.mail import MailSender
from ..services.realtime import LiveUpdates
from . import Consumer
from .outbound_email import outbound_email_consumer
from .realtime import realtime_consumer
from .routing import routing_decisions, routing_pool
from .rules import rules_consumer
from .sla import sla_clock_consumer
from .support_metrics import support_metrics


def local_consumers(live: LiveUpdates | None = None, mail: MailSender | None = None) -> list[Consumer]:
    # the pool first: routing reads it; the rules before routing, so a rule's team is where routing looks
    consumers = [support_metrics, routing_pool, rules_consumer, routing_decisions, sla_clock_consumer]
    if live is not None:
        consumers.append(realtime_consumer(live))
    if mail is not None:
        consumers.append(outbound_email_consumer(mail))
    return consumers
