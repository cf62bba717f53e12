"""In AWS the webhook signing key comes from Secrets Manager (the secret the infra generates), read on first use."""

from __future__ import annotations

import boto3
from caseline import bootstrap
from caseline.adapters.http_webhooks import signature, verify
from caseline.settings import Settings

from ..conftest import REGION


def test_the_signing_key_is_read_from_the_secret_once_it_is_needed(aws: None) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.create_secret(Name="caseline-webhooks", SecretString="k" * 64)["ARN"]
    settings = Settings(adapters="aws", region=REGION, webhook_secret_arn=arn)
    sender = bootstrap._webhooks(settings)
    client.put_secret_value(SecretId=arn, SecretString="the-key-in-use")  # not read until the first delivery
    key = sender._signing_key()
    assert key == b"the-key-in-use"
    assert verify(key, signature(key, 1_790_000_000, b"{}"), b"{}", now=1_790_000_000)
