"""What a cold start costs in all: importing the handler, then its first requests, in a fresh process.

    .venv/bin/python bench/first_request.py [--runs 5]

Import-time figures (bench/infra_figures.py) leave out what a handler imports or builds on its first request
(the platform and its adapters, pydantic schemas built on first use, the idempotency utility). This script
runs `cases_api` the way Lambda does, in a fresh process with the Lambda-like environment of
infra_figures.py but the embedded adapters (SQLite in a temporary directory, so nothing leaves the machine):
import the handler, then send it, in order,

1. POST /cases with an Idempotency-Key (an agent opens a case: the write path, with the idempotency utility);
2. GET /cases/{id} of that case (a read);
3. the same POST again with another key and 4. the same GET again, warm, for comparison.

Each figure is the best of `--runs` fresh processes (CPU time, steadier than wall time on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from infra_figures import LAMBDA_ENV, ROOT

AGENT_ID = "01JAAAAAAAAAAAAAAAAAAAAAAA"
_PROBE = r"""
import json, time, uuid
clock = time.process_time
started = clock()
import handler
imported = clock()

def event(method, path, body=None, key=None):
    headers = {"content-type": "application/json"}
    if key:
        headers["idempotency-key"] = key
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None, "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "bench", "httpMethod": method, "path": path,
                           "resourcePath": "/{proxy+}", "requestTimeEpoch": int(time.time() * 1000),
                           "identity": {"sourceIp": "127.0.0.1"},
                           "authorizer": {"claims": {"sub": "bench-agent", "cognito:groups": "agent",
                                                     "custom:caseline_id": AGENT_ID, "name": "Bench Agent"}}},
    }

class Context:
    function_name = "cases_api"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:111111111111:function:cases_api"
    def get_remaining_time_in_millis(self):
        return 15000

body = {"channel": "email", "subject": "Printer on fire", "text": "It is on fire.",
        "requester": {"email": "alice@example.com"}}
times, statuses = [], []
for step in range(2):
    t = clock()
    created = handler.lambda_handler(event("POST", "/cases", body, key=f"bench-{step}"), Context())
    times.append(clock() - t); statuses.append(created["statusCode"])
    payload = json.loads(created["body"])
    assert created["statusCode"] == 201, created["body"]
    case_id = payload["id"] if "id" in payload else payload["case"]["id"]
    t = clock()
    read = handler.lambda_handler(event("GET", f"/cases/{case_id}"), Context())
    times.append(clock() - t); statuses.append(read["statusCode"])
print(json.dumps({"import": imported - started, "steps": times, "statuses": statuses}))
""".replace("AGENT_ID", repr(AGENT_ID))


def run_once(root: Path) -> dict:
    with tempfile.TemporaryDirectory() as data:
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            **LAMBDA_ENV,
            "CASELINE_ADAPTERS": "embedded",
            "CASELINE_DATA_DIR": data,
            "POWERTOOLS_SERVICE_NAME": "cases_api",
            "LAMBDA_TASK_ROOT": str(root / "functions" / "cases_api"),
            "PYTHONPATH": str(root / "layers" / "core" / "python"),
        }
        result = subprocess.run([sys.executable, "-c", _PROBE], cwd=root / "functions" / "cases_api", env=env,
                                capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            sys.exit(f"cases_api failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose handler and package to run")
    args = parser.parse_args()
    results = [run_once(args.root) for _ in range(args.runs)]
    statuses = {tuple(r["statuses"]) for r in results}
    if statuses != {(201, 200, 201, 200)}:
        sys.exit(f"unexpected statuses: {statuses}")
    best = [min(r["steps"][i] for r in results) * 1000 for i in range(4)]
    imported = min(r["import"] for r in results) * 1000
    first = min((r["import"] + r["steps"][0] + r["steps"][1]) for r in results) * 1000
    load = os.getloadavg()[0]
    print(f"cases_api, embedded adapters, best of {args.runs} fresh processes, CPU ms (load {load:.1f}):")
    print("| import | first POST /cases | first GET /cases/{id} | import + both | warm POST | warm GET |")
    print("|---|---|---|---|---|---|")
    print(f"| {imported:.0f} | {best[0]:.0f} | {best[1]:.0f} | {first:.0f} | {best[2]:.0f} | {best[3]:.0f} |")


if __name__ == "__main__":
    main()
