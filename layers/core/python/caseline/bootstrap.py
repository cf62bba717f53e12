"""The composition root: the one place that chooses adapters, from `Settings.adapters`.

Lambda handlers call `platform()` lazily on their first request (never at import); the local runtime and
the tests build a platform explicitly and install it with `use()`.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .adapters.store import Store
from .ports.blobs import BlobStore
from .ports.clock import Clock, Ids, SystemClock, UlidIds
from .ports.connections import Pusher
from .ports.mail import MailSender
from .ports.scheduler import Scheduler
from .ports.table import Item, Table
from .ports.webhooks import WebhookSender
from .services.commands import MAX_ATTACHMENT_BYTES
from .services.context import Deps, Metrics
from .services.realtime import LiveUpdates
from .settings import AdapterSet, Settings

if TYPE_CHECKING:  # Powertools' idempotency imports boto3: only the API's first request with a key needs it
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer


def is_outbox_item(item: Item) -> bool:
    """Which writes the stream carries to the event publisher (in AWS: the event-source filter)."""
    return item.get("entity") == "outbox"


@dataclass
class Platform:
    settings: Settings
    table: Table
    deps: Deps
    idempotency: Callable[[], BasePersistenceLayer]
    extras: dict[str, Any] = field(default_factory=dict)


def build(
    settings: Settings,
    *,
    table: Table | None = None,
    clock: Clock | None = None,
    ids: Ids | None = None,
    metrics: Metrics | None = None,
    idempotency: BasePersistenceLayer | None = None,
    blobs: BlobStore | None = None,
) -> Platform:
    clock = clock or SystemClock()
    if table is None:
        table = _table(settings)
    # Made on first use: Powertools' DynamoDB layer imports boto3 and builds a client, which only the API's
    # requests with an Idempotency-Key need.
    idempotency_layer = _once(lambda: idempotency or _idempotency(settings))
    store = Store(table, clock_now=clock.now, outbox_ttl_days=settings.outbox_ttl_days)
    ids = ids or UlidIds()
    deps = Deps(store=store, clock=clock, ids=ids, settings=settings,
                metrics=metrics or _metrics(settings), blobs=blobs or _blobs(settings, clock),
                scheduler=_scheduler(settings, table, ids, clock), webhooks=_webhooks(settings),
                mail=functools.cache(lambda: mail_sender(settings)))
    return Platform(settings=settings, table=table, deps=deps, idempotency=idempotency_layer)


def _once(make: Callable[[], Any]) -> Callable[[], Any]:
    lock = threading.Lock()
    made: list[Any] = []

    def get() -> Any:
        with lock:
            if not made:
                made.append(make())
        return made[0]

    return get


def _webhooks(settings: Settings) -> WebhookSender:
    from .adapters.http_webhooks import HttpWebhookSender

    def secret() -> bytes:
        if settings.webhook_secret_arn and not settings.webhook_secret:
            from .adapters.aws.clients import client as aws_client

            client = aws_client("secretsmanager", region_name=settings.region)
            return client.get_secret_value(SecretId=settings.webhook_secret_arn)["SecretString"].encode()
        if settings.webhook_secret or settings.adapters is AdapterSet.AWS:
            return (settings.webhook_secret or "").encode()
        path = Path(settings.data_dir) / "webhook-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip().encode()

    return HttpWebhookSender(secret, timeout=settings.webhook_timeout_seconds)


def _table(settings: Settings) -> Table:
    if settings.adapters is AdapterSet.AWS:
        from .adapters.aws.dynamodb_table import DynamoDbTable

        return DynamoDbTable(settings.table_name)
    from .adapters.embedded.sqlite_table import SqliteTable

    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return SqliteTable(Path(settings.data_dir) / "caseline.db", stream_filter=is_outbox_item)


def live_updates(settings: Settings, *, hub: Pusher | None = None, table: Table | None = None) -> LiveUpdates:
    """The connection registry and pusher: the connection table and API Gateway in AWS; locally an in-memory
    table (connections do not outlive the process) and the local gateway's hub, which the caller passes."""
    from .adapters.connections import TableConnectionRegistry

    if settings.adapters is AdapterSet.AWS:
        from .adapters.aws.apigateway_pusher import ApiGatewayPusher
        from .adapters.aws.dynamodb_table import DynamoDbTable

        registry = TableConnectionRegistry(table or DynamoDbTable(settings.connections_table_name),
                                           scope=settings.region or "default")
        return LiveUpdates(registry, hub or ApiGatewayPusher(settings.websocket_endpoint or ""))
    from .adapters.embedded.sqlite_table import SqliteTable

    if hub is None:
        raise ValueError("the embedded live updates push through the local gateway's hub")
    return LiveUpdates(TableConnectionRegistry(table or SqliteTable.memory(), scope="local"), hub)


def _blobs(settings: Settings, clock: Clock) -> BlobStore:
    if settings.adapters is AdapterSet.AWS:
        from .adapters.aws.s3_blobs import S3BlobStore

        return S3BlobStore(settings.attachments_bucket, max_size=MAX_ATTACHMENT_BYTES,
                           kms_key_id=settings.attachments_kms_key_id, region=settings.region)
    from .adapters.embedded.blob_files import FileBlobStore

    data_dir = Path(settings.data_dir)
    return FileBlobStore(data_dir / "blobs", max_size=MAX_ATTACHMENT_BYTES, secret_file=data_dir / "blob-secret",
                         clock=clock)


# SES refuses messages over 40 MB, so nothing larger ever lands in the inbound bucket.
MAX_RAW_MAIL_BYTES = 40 * 1024 * 1024


def inbound_mail_blobs(settings: Settings) -> BlobStore:
    """Where raw inbound messages wait to be ingested: the bucket SES's S3 action writes to in AWS (the
    attachments store is another bucket), a directory next to the blobs on one machine."""
    if settings.adapters is AdapterSet.AWS:
        from .adapters.aws.s3_blobs import S3BlobStore

        if not settings.inbound_mail_bucket:
            raise ValueError("CASELINE_INBOUND_MAIL_BUCKET is not set: the function cannot read raw messages")
        return S3BlobStore(settings.inbound_mail_bucket, max_size=MAX_RAW_MAIL_BYTES, region=settings.region)
    from .adapters.embedded.blob_files import FileBlobStore

    data_dir = Path(settings.data_dir)
    return FileBlobStore(data_dir / "inbound-mail", max_size=MAX_RAW_MAIL_BYTES, secret_file=data_dir / "blob-secret")


def _scheduler(settings: Settings, table: Table, ids: Ids, clock: Clock) -> Scheduler:
    """Timer records live in the main table in both runtimes (ports/scheduler.py)."""
    from .adapters.timer_records import TimerRecords

    records = TimerRecords(table, ids, now=clock.now)
    if settings.adapters is AdapterSet.AWS:
        from .adapters.aws.aws_scheduler import AwsScheduler

        return AwsScheduler(records, state_machine_arn=settings.sla_state_machine_arn or "",
                            target_arn=settings.timers_function_arn or "", role_arn=settings.scheduler_role_arn or "",
                            group_name=settings.schedule_group_name, region=settings.region,
                            dead_letter_arn=settings.timers_dead_letter_arn)
    from .adapters.embedded.local_scheduler import LocalScheduler

    return LocalScheduler(records)


def mail_sender(settings: Settings) -> MailSender:
    """How replies leave: SES in AWS; on one machine a maildir under the data directory, or an SMTP relay."""
    kind = settings.mail_sender or ("ses" if settings.adapters is AdapterSet.AWS else "maildir")
    if kind == "ses":
        from .adapters.aws.mail_ses import SesMailSender

        return SesMailSender(settings.ses_configuration_set, region=settings.region)
    if kind == "smtp":
        from .adapters.embedded.mail_smtp import SmtpRelayMailSender

        return SmtpRelayMailSender(settings.smtp_relay_host, settings.smtp_relay_port,
                                   starttls=settings.smtp_relay_starttls, username=settings.smtp_relay_username,
                                   password=settings.smtp_relay_password)
    from .adapters.embedded.mail_maildir import MaildirMailSender

    return MaildirMailSender(Path(settings.data_dir) / "mail" / "outbox")


def _idempotency(settings: Settings) -> BasePersistenceLayer:
    if settings.adapters is AdapterSet.AWS:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)
    from .adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence

    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return SqliteIdempotencyPersistence(Path(settings.data_dir) / "idempotency.db")


def _metrics(settings: Settings) -> Metrics:
    if settings.adapters is AdapterSet.AWS:
        from .adapters.aws.emf_metrics import EmfMetrics

        return EmfMetrics()
    from .adapters.embedded.memory_metrics import MemoryMetrics

    return MemoryMetrics()


_lock = threading.Lock()
_current: Platform | None = None


def platform() -> Platform:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = build(Settings.from_env())
    return _current


def use(installed: Platform | None) -> None:
    """Install a prebuilt platform (local runtime, tests); None forgets it."""
    global _current
    with _lock:
        _current = installed


def deps() -> Deps:
    return platform().deps
