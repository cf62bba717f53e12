"""What a cold start imports: each handler, imported alone as Lambda does it, leaves out what it never needs.

The import-time figures (docs/deploy.md, "Infrastructure figures") rest on these: boto3 and s3transfer only
come with the idempotency utility on the API's first request with a key, the tracer patches only what the
functions call (ADR 0113), the mail parser is the inbound function's, and garbage collection is back on once
the handler module is set up (ADR 0114).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FUNCTION_NAMES

ROOT = Path(__file__).resolve().parents[2]
NEVER_AT_IMPORT = ("boto3", "s3transfer", "requests", "sqlite3", "pymongo", "caseline.mail.classify",
                   "caseline.adapters.http_webhooks", "aws_lambda_powertools.utilities.idempotency")
NEEDED_BY = {"httpx": {"rules_events"}, "caseline.mail.classify": {"inbound_email"}}  # rules' webhooks are traced
_PROBE = (
    "import gc, json, sys; import handler; "
    "print(json.dumps({'gc': gc.isenabled(), 'modules': sorted(sys.modules)}))"
)


def _imported(name: str) -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "CASELINE_"))},
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / name),
        "CASELINE_ADAPTERS": "aws",
        "POWERTOOLS_SERVICE_NAME": name,
        "PYTHONPATH": str(ROOT / "layers" / "core" / "python"),
    }
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT / "functions" / name, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_a_cold_import_leaves_out_what_the_function_does_not_need(name: str) -> None:
    imported = _imported(name)
    assert imported["gc"], "the handler must end with coldstart.done()"
    modules = set(imported["modules"])
    unexpected = {m for m in NEVER_AT_IMPORT if m in modules and name not in NEEDED_BY.get(m, set())}
    unexpected |= {m for m, needers in NEEDED_BY.items() if m in modules and name not in needers}
    assert unexpected == set()


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_handlers_import_coldstart_first_and_finish_it_last(name: str) -> None:
    source = (ROOT / "functions" / name / "handler.py").read_text(encoding="utf-8")
    code = [line for line in source.split('"""', 2)[2].splitlines() if line.strip() and not line.startswith("#")]
    assert code[0].startswith("from caseline import coldstart")
    assert code[-1].startswith("coldstart.done()")
