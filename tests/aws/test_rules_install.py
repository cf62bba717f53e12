"""`caseline rules install-defaults` against DynamoDB (moto): the shipped rules once, never over a stored set."""

from __future__ import annotations

import boto3
import pytest
from caseline import bootstrap
from caseline.adapters.aws.dynamodb_table import create_table
from caseline.cli import main
from caseline.services.rules import active_rules
from caseline.settings import Settings

from ..conftest import REGION


def test_installs_the_shipped_rules_into_the_table_once(aws: None, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    create_table(boto3.client("dynamodb", region_name=REGION), "caseline-rules-test")
    monkeypatch.setenv("CASELINE_ADAPTERS", "aws")
    monkeypatch.setenv("CASELINE_TABLE_NAME", "caseline-rules-test")

    assert main(["rules", "install-defaults"]) == 0
    assert main(["rules", "install-defaults"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["installed 3 default rules", "a rule set is already stored; nothing installed"]
    deps = bootstrap.build(Settings.from_env()).deps
    assert [rule.id for rule in active_rules(deps)] == [
        "billing-to-billing-team", "big-spender-high-priority", "no-agent-response-escalate"]
