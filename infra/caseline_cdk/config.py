"""Deployment configuration, read once from CDK context.

Every value has a default that synthesizes offline (a dummy account, example domain and hosted zone), so
`make synth` and the tests need no AWS account. A real deployment overrides them with `-c key=value` or in
`cdk.json`. Names that another region must know *before* the resource exists (bucket names, the KMS alias)
are derived here deterministically: that is what lets the two regions reference each other without
cross-region exports for stateful resources.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from constructs import Node

REPO_ROOT = Path(__file__).resolve().parents[2]

PREFIX = "caseline:"
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")
_SYSTEM = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_ADDRESS = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
# Regions where SES receives email: those of its "Email Receiving endpoints" table we have checked
# (eu-central-1 and the others after the first three joined in 2023). A service stack in any other region
# deploys no receipt rule; add a region here when SES lists an inbound-smtp endpoint for it.
SES_RECEIVING_REGIONS = frozenset({
    "us-east-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "ca-central-1", "ap-northeast-1",
    "ap-southeast-2",
})  # fmt: skip


class ConfigError(ValueError):
    """A context value is missing or malformed; raised before any construct is built."""


@dataclass(frozen=True)
class SsoProvider:
    """The staff pool's federation hook: one SAML or OIDC identity provider, off unless configured."""

    name: str
    saml_metadata_url: str | None = None
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret_name: str | None = None


@dataclass(frozen=True)
class DeploymentConfig:
    account: str = "111111111111"
    primary_region: str = "eu-west-1"
    secondary_region: str = "eu-central-1"
    # The region whose outbox publisher is enabled. Exactly one region publishes events, or every
    # replicated outbox item would be delivered twice; the failover drill flips it.
    active_region: str = "eu-west-1"
    domain_name: str = "caseline.example.com"
    hosted_zone_id: str = "Z00000000000000000000"
    alarm_email: str | None = None
    log_retention_days: int = 90
    event_archive_days: int = 30
    external_systems: tuple[str, ...] = ("crm", "billing")
    first_party_api_key: str = "caseline-first-party-web-clients"
    powertools_version: str = ""
    powertools_layer_arn: str | None = None
    functions_dir: Path = field(default_factory=lambda: REPO_ROOT / "functions")
    # Where the single-page apps are; `<web_dir>/<site>/dist` is deployed when it has been built.
    web_dir: Path = field(default_factory=lambda: REPO_ROOT / "web")
    sso: SsoProvider | None = None
    # Inbound email: the addresses SES accepts support mail for (default support@<domain_name>), how long the
    # raw messages stay in the inbound bucket, and whether the deployment makes its receipt rule set the
    # region's active one (SES has one active set per region: ADR 0111).
    support_addresses: tuple[str, ...] = ()
    raw_mail_retention_days: int = 400
    activate_receipt_rule_set: bool = True

    def __post_init__(self) -> None:
        if not _ACCOUNT.match(self.account):
            raise ConfigError(f"{PREFIX}account must be 12 digits, got {self.account!r}")
        for name in ("primary_region", "secondary_region", "active_region"):
            if not _REGION.match(getattr(self, name)):
                raise ConfigError(f"{PREFIX}{name} is not a region name: {getattr(self, name)!r}")
        if self.primary_region == self.secondary_region:
            raise ConfigError("primary and secondary regions must differ")
        if self.active_region not in self.regions:
            raise ConfigError(f"{PREFIX}active_region must be one of {self.regions}")
        if len(self.first_party_api_key) < 20:
            raise ConfigError("API Gateway rejects API key values shorter than 20 characters")
        bad = [s for s in self.external_systems if not _SYSTEM.match(s)]
        if bad:
            raise ConfigError(f"external system names must be short slugs: {bad}")
        bad = [a for a in self.support_addresses if not _ADDRESS.match(a)]
        if bad:
            raise ConfigError(f"{PREFIX}support_addresses must be lower-case mail addresses: {bad}")
        if self.raw_mail_retention_days < 1:
            raise ConfigError(f"{PREFIX}raw_mail_retention_days must be at least 1")

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.secondary_region)

    def is_primary(self, region: str) -> bool:
        return region == self.primary_region

    def receives_email(self, region: str) -> bool:
        return region in SES_RECEIVING_REGIONS

    @property
    def inbound_addresses(self) -> tuple[str, ...]:
        return self.support_addresses or (f"support@{self.domain_name}",)

    # Deterministic names -----------------------------------------------------------------------------
    # S3 bucket names are global, so the account and region are part of them.

    def attachments_bucket_name(self, region: str) -> str:
        return f"caseline-attachments-{self.account}-{region}"

    def web_bucket_name(self, site: str, region: str) -> str:
        return f"caseline-web-{site}-{self.account}-{region}"

    data_key_alias = "alias/caseline-data"

    def data_key_alias_arn(self, region: str) -> str:
        return f"arn:aws:kms:{region}:{self.account}:alias/caseline-data"

    @property
    def api_domain(self) -> str:
        return f"api.{self.domain_name}"

    @property
    def api_base_url(self) -> str:
        return f"https://{self.api_domain}"

    @property
    def websocket_domain(self) -> str:
        return f"ws.{self.domain_name}"

    @property
    def websocket_url(self) -> str:
        """What browsers connect to; the failover record pair sends them to the healthy region."""
        return f"wss://{self.websocket_domain}"

    @classmethod
    def from_node(cls, node: Node) -> DeploymentConfig:
        """Build the config from `caseline:*` context keys; unknown keys are an error, not a silent typo."""
        values: dict[str, object] = {}
        for key, raw in _context_items(node):
            name = key.removeprefix(PREFIX)
            if name not in _FIELDS:
                raise ConfigError(f"unknown context key {key!r}; known: {sorted(_FIELDS)}")
            values[name] = _coerce(name, raw)
        if "active_region" not in values and "primary_region" in values:
            values["active_region"] = values["primary_region"]
        values.setdefault("powertools_version", pinned_version("aws-lambda-powertools"))
        return cls(**values)  # type: ignore[arg-type]


_FIELDS = set(DeploymentConfig.__dataclass_fields__)


def _context_items(node: Node) -> list[tuple[str, object]]:
    return [(key, value) for key, value in node.get_all_context().items() if key.startswith(PREFIX)]


def _coerce(name: str, raw: object) -> object:
    """Context from `-c k=v` arrives as strings; from cdk.json as JSON values. Accept both."""
    if name == "external_systems":
        if isinstance(raw, str):
            raw = json.loads(raw) if raw.startswith("[") else [s for s in raw.split(",") if s]
        return tuple(str(s) for s in raw)  # type: ignore[union-attr]
    if name == "support_addresses":
        if isinstance(raw, str):
            raw = json.loads(raw) if raw.startswith("[") else [s for s in raw.split(",") if s]
        return tuple(str(s).strip().lower() for s in raw)  # type: ignore[union-attr]
    if name in ("log_retention_days", "event_archive_days", "raw_mail_retention_days"):
        return int(raw)  # type: ignore[call-overload]
    if name == "activate_receipt_rule_set":
        return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
    if name in ("functions_dir", "web_dir"):
        path = Path(str(raw))
        return path if path.is_absolute() else REPO_ROOT / path
    if name == "sso":
        data = json.loads(raw) if isinstance(raw, str) else raw
        return SsoProvider(**data)  # type: ignore[arg-type]
    return str(raw) if raw is not None else None


def pinned_version(distribution: str) -> str:
    """The `==` pin of a runtime dependency in pyproject.toml, so the public Powertools layer we attach
    is the same release the code was tested against."""
    import tomllib

    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    for requirement in data["project"]["dependencies"]:
        name, _, version = requirement.partition("==")
        if re.sub(r"\[.*\]", "", name).strip().lower() == distribution:
            return version.strip()
    raise ConfigError(f"{distribution} is not pinned with == in pyproject.toml")
