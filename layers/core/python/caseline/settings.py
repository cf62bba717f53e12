"""Typed configuration, read once from the environment at cold start (or `caseline dev` start-up).

The same model describes a Lambda function's environment in AWS (the CDK function factory fills it from
`Settings.lambda_environment`) and the local runtime's, so a setting cannot exist in one place only.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AdapterSet(StrEnum):
    AWS = "aws"
    EMBEDDED = "embedded"


ENV_PREFIX = "CASELINE_"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    adapters: AdapterSet = AdapterSet.EMBEDDED
    # AWS
    table_name: str = "caseline"
    idempotency_table_name: str = "caseline-idempotency"
    event_bus_name: str = "caseline"
    attachments_bucket: str = "caseline-attachments"
    attachments_kms_key_id: str | None = None  # SSE-KMS key for attachments; unset: the bucket's default
    region: str | None = None
    # Embedded
    data_dir: Path = Path(".caseline-data")
    # Auth: the issuer/audience the local runtime signs its dev tokens with. In AWS the Cognito authorizer
    # has already verified the token, and the claims arrive in the request context.
    jwt_issuer: str = "caseline-local"
    jwt_audience: str = "caseline"
    jwt_secret: str | None = None
    # API behaviour
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    page_size_default: int = Field(default=25, gt=0, le=200)
    event_source: str = "caseline"
    outbox_ttl_days: int = Field(default=7, gt=0)
    dispatcher_max_attempts: int = Field(default=5, gt=0)
    merge_undo_minutes: int = Field(default=60, gt=0, le=7 * 24 * 60, description="how long a merge can be undone")
    # Outgoing webhooks of rules: the HMAC signing secret (locally a generated file in the data dir when unset).
    webhook_secret: str | None = None
    webhook_secret_arn: str | None = None  # AWS: the Secrets Manager secret holding it, read on first use
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    routing_offline_grace_minutes: int = Field(default=10, ge=0, le=24 * 60,
                                               description="until a routing policy is saved: how long an agent "
                                                           "may be away before their cases are routed again")
    # Live updates (AWS): the connection table, the WebSocket stage's callback URL for PostToConnection, and the
    # Cognito user pool whose tokens $connect accepts (no authorizer runs there, so the function verifies).
    connections_table_name: str = "caseline-connections"
    websocket_endpoint: str | None = None
    cognito_issuer: str | None = None
    cognito_client_id: str | None = None
    # Timers (AWS): the SLA clock state machine, the function other timer kinds invoke, the role EventBridge
    # Scheduler assumes to invoke it, its schedule group and the queue for timers it could not deliver.
    sla_state_machine_arn: str | None = None
    timers_function_arn: str | None = None
    scheduler_role_arn: str | None = None
    schedule_group_name: str = "caseline"
    timers_dead_letter_arn: str | None = None
    # Inbound email (AWS): the SES receipt rule's S3 action stores each raw message at
    # <inbound_mail_prefix><SES message id> in this bucket before it invokes the inbound_email function.
    inbound_mail_bucket: str | None = None
    inbound_mail_prefix: str = "inbound/"
    # Email (docs/email.md): the addresses we receive support mail at (their domains are ours: mail from them is a
    # loop), the languages a case may be detected in, and the limits inbound mail meets.
    support_addresses: list[str] = Field(default_factory=lambda: ["support@caseline.localhost"], min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["en", "de", "es", "fr", "it", "nl", "pt"])
    language_low_accuracy: bool = False
    reopen_window_days: int = Field(default=7, ge=0, description="a reply reopens a solved case this long")
    mail_max_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    mail_rate_limit: int = Field(default=20, gt=0, description="messages per sender per window")
    mail_rate_window_seconds: int = Field(default=600, gt=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=0, le=65535)
    # `caseline dev`: handler calls that run at once per process (see runtime/gateway.py); more only queue.
    gateway_threads: int = Field(default=2, ge=1, le=64)
    # Threads per process that store received messages. Ingestion is Python work that holds the GIL and ends in
    # a write to the one SQLite writer, so more threads only queue (8 cost ~15% more CPU per message than 2);
    # two let one message wait on disk while another is parsed. docs/performance.md has the figures.
    smtp_ingest_threads: int = Field(default=2, ge=1, le=64)
    # Outbound email (docs/email.md): how replies leave — SES in AWS; on one machine a maildir under data_dir
    # (the default) or an SMTP relay. The From name is "<support_team_name> via Caseline" unless the agent's.
    mail_sender: Literal["ses", "maildir", "smtp"] | None = None  # None: ses in AWS, maildir on one machine
    support_team_name: str = Field(default="Support", min_length=1, max_length=100)
    ses_configuration_set: str = "caseline"
    smtp_relay_host: str = "127.0.0.1"
    smtp_relay_port: int = Field(default=587, ge=1, le=65535)
    smtp_relay_starttls: bool = True
    smtp_relay_username: str | None = None
    smtp_relay_password: str | None = None

    @field_validator("support_addresses", "languages", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """From the environment a list is `a@x.example,b@y.example`."""
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @property
    def our_domains(self) -> list[str]:
        return sorted({address.rpartition("@")[2].lower() for address in self.support_addresses})

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in env:
                values[name] = env[key]
        if "region" not in values and "AWS_REGION" in env:
            values["region"] = env["AWS_REGION"]
        return cls.model_validate(values)

    def lambda_environment(self, **overrides: str) -> dict[str, str]:
        """The environment variables a Lambda function needs to rebuild these settings."""
        env = {
            ENV_PREFIX + "ADAPTERS": self.adapters.value,
            ENV_PREFIX + "TABLE_NAME": self.table_name,
            ENV_PREFIX + "IDEMPOTENCY_TABLE_NAME": self.idempotency_table_name,
            ENV_PREFIX + "EVENT_BUS_NAME": self.event_bus_name,
            ENV_PREFIX + "EVENT_SOURCE": self.event_source,
        }
        env.update({ENV_PREFIX + k.upper(): v for k, v in overrides.items()})
        return env
