"""The whole app: it synthesizes for both regions, cdk-nag finds nothing unacknowledged, cfn-lint is clean,
and the entry point `make synth` runs produces the same assembly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from caseline_cdk import nag
from cfnlint.api import lint_file

from .conftest import FUNCTION_NAMES, PRIMARY, ROOT, SECONDARY, Synthesized

EXPECTED_STACKS = {
    "data-primary": f"Caseline-Data-{PRIMARY}",
    "data-secondary": f"Caseline-Data-{SECONDARY}",
    "identity": "Caseline-Identity",
    "edge-origin": f"Caseline-EdgeOrigin-{SECONDARY}",
    "edge": "Caseline-Edge",
    "service-primary": f"Caseline-Service-{PRIMARY}",
    "service-secondary": f"Caseline-Service-{SECONDARY}",
}


def _manifest(outdir: Path) -> dict:
    return json.loads((outdir / "manifest.json").read_text())


def test_every_stack_is_synthesized_into_its_region(synth: Synthesized) -> None:
    assert synth.stack_names == EXPECTED_STACKS
    artifacts = _manifest(synth.outdir)["artifacts"]
    regions = {name: artifacts[name]["environment"].rsplit("/", 1)[1] for name in EXPECTED_STACKS.values()}
    assert regions == {
        f"Caseline-Data-{PRIMARY}": PRIMARY,
        f"Caseline-Data-{SECONDARY}": SECONDARY,
        "Caseline-Identity": PRIMARY,
        f"Caseline-EdgeOrigin-{SECONDARY}": SECONDARY,
        "Caseline-Edge": PRIMARY,
        f"Caseline-Service-{PRIMARY}": PRIMARY,
        f"Caseline-Service-{SECONDARY}": SECONDARY,
    }


def test_deploy_order_puts_the_secondary_data_before_the_global_table(synth: Synthesized) -> None:
    artifacts = _manifest(synth.outdir)["artifacts"]

    def depends(stack: str) -> set[str]:
        return {d for d in artifacts[stack].get("dependencies", []) if not d.endswith(".assets")}

    assert f"Caseline-Data-{SECONDARY}" in depends(f"Caseline-Data-{PRIMARY}")
    assert f"Caseline-EdgeOrigin-{SECONDARY}" in depends("Caseline-Edge")
    assert "Caseline-Identity" in depends("Caseline-Edge")
    for region in (PRIMARY, SECONDARY):
        assert {f"Caseline-Data-{PRIMARY}", "Caseline-Identity", "Caseline-Edge"} <= depends(
            f"Caseline-Service-{region}"
        )


def test_stateful_stacks_have_termination_protection(synth: Synthesized) -> None:
    artifacts = _manifest(synth.outdir)["artifacts"]
    for key in ("data-primary", "data-secondary", "identity"):
        assert artifacts[synth.stack_names[key]]["properties"].get("terminationProtection") is True


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Synthesized) -> None:
    violations = [
        (violation["ruleName"], construct["constructPath"])
        for report in synth.validation_report()["pluginReports"]
        for violation in report["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert violations == []
    assert synth.error is None, synth.error


def test_synth_leaves_no_unacknowledged_warning(synth: Synthesized) -> None:
    warnings = []
    for name in EXPECTED_STACKS.values():
        metadata = json.loads((synth.outdir / f"{name}.metadata.json").read_text())
        warnings += [
            (path, entry["data"])
            for path, entries in metadata.items()
            for entry in entries
            if entry["type"] in ("aws:cdk:warning", "aws:cdk:error")
        ]
    assert warnings == []


def test_cdk_nag_is_enforced_at_synth(tmp_path: Path) -> None:
    """The same hook the app uses must fail synth on a finding nobody acknowledged."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Probe", env=cdk.Environment(account="111111111111", region=PRIMARY))
    s3.Bucket(stack, "Careless")
    nag.enforce(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_an_acknowledgment_needs_a_reason() -> None:
    stack = cdk.Stack(cdk.App(), "Reasons")
    with pytest.raises(ValueError, match="must say why"):
        nag.acknowledge(stack, "S1", "because")


@pytest.mark.parametrize("key", list(EXPECTED_STACKS))
def test_cfn_lint_finds_nothing(synth: Synthesized, key: str) -> None:
    region = SECONDARY if key in ("data-secondary", "edge-origin", "service-secondary") else PRIMARY
    template = synth.outdir / f"{synth.stack_names[key]}.template.json"
    matches = lint_file(template, {"ignore_checks": ["W3005"], "regions": [region]})
    assert [f"{m.rule.id} {m.message} ({m.linenumber})" for m in matches] == []


def test_python_entry_point_synthesizes_like_make_synth(tmp_path: Path) -> None:
    """`make synth` runs `python infra/app.py` from the repository root with CDK_OUTDIR set."""
    missing = [n for n in FUNCTION_NAMES if not (ROOT / "functions" / n / "handler.py").is_file()]
    assert missing == [], "every function the app deploys needs its handler"
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run(
        [sys.executable, "infra/app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert {f"{name}.template.json" for name in EXPECTED_STACKS.values()} <= {
        p.name for p in tmp_path.iterdir()
    }

