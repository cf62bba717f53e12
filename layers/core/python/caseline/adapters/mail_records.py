"""Inbound-mail records over the store's table: source claims, per-sender rate windows and rejections.

Access patterns (docs/data-model.md): each read is one GetItem, the rejection list one Query on `gsi1`.
Writes that belong to an ingestion's transaction are added to its `UnitOfWork`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from ..domain.errors import DomainError
from ..domain.mail import MailRejection
from ..ports.table import Condition, Increment, Put, Query
from . import mail_keys as keys
from .store import Slice, Store, UnitOfWork, _decode_cursor, _encode_cursor

SOURCE_TTL_SECONDS = 90 * 86_400  # SES and SMTP clients retry for days, not months


class MailRecords:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.table = store.table

    # sources: the same message twice is one interaction
    def outcome_for(self, source_id: str) -> dict | None:
        item = self.table.get(keys.source(source_id), now=self.store._epoch_now())
        return json.loads(item["outcome"]) if item else None

    def claim_source(self, uow: UnitOfWork, source_id: str, outcome: dict, now: datetime,
                     error: Callable[[], DomainError]) -> None:
        item = {**keys.source(source_id), "entity": "mail_source", "outcome": json.dumps(outcome),
                "expires_at": int(now.timestamp()) + SOURCE_TTL_SECONDS}
        uow._add(Put(item, Condition.absent()), error)

    # rate limit: a fixed window per sender
    def messages_in_window(self, sender: str, now: datetime, window_seconds: int) -> int:
        """How many messages from `sender` the current window has counted so far."""
        epoch = int(now.timestamp())
        item = self.table.get(keys.rate_window(sender, epoch // window_seconds), now=epoch)
        return int(item["count"]) if item else 0

    def count_message(self, uow: UnitOfWork, sender: str, now: datetime, window_seconds: int) -> None:
        """Count one more message from `sender` in the current window, in the transaction of its outcome."""
        window = int(now.timestamp()) // window_seconds
        expires = (window + 2) * window_seconds
        uow.add(Increment(keys.rate_window(sender, window), {"count": 1},
                          {"entity": "mail_rate", "expires_at": expires}))

    # rejections
    def put_rejection(self, uow: UnitOfWork, rejection: MailRejection) -> None:
        item = {**keys.rejection(rejection.id), "entity": "mail_rejection", "data": rejection.model_dump_json(),
                "gsi1pk": keys.REJECTION_LIST, "gsi1sk": rejection.id}
        uow._add(Put(item, Condition.absent()))

    def get_rejection(self, rejection_id: str) -> MailRejection | None:
        item = self.table.get(keys.rejection(rejection_id), now=self.store._epoch_now())
        return MailRejection.model_validate_json(item["data"]) if item else None

    def rejections(self, *, limit: int, cursor: str | None) -> Slice[MailRejection]:
        """Newest first."""
        start = _decode_cursor(cursor, partition_attr="gsi1pk", partition=keys.REJECTION_LIST)
        page = self.table.query(Query(partition=keys.REJECTION_LIST, index="gsi1", forward=False, limit=limit,
                                      start_after=start), now=self.store._epoch_now())
        return Slice([MailRejection.model_validate_json(i["data"]) for i in page.items],
                     _encode_cursor(page.last_key))
