"""Figures for the deployment: synth time, resources per stack, the largest Lambda package, and each
handler's cold-start import time.

    .venv/bin/python bench/infra_figures.py [--runs 3] [--no-synth] [--only NAME ...] [--compile-package]

Synth runs `infra/app.py` exactly as `make synth` does (a fresh process, so jsii start-up is included).
Import times come from `python -X importtime -c "import handler"` in each `functions/<name>/`, with the
core layer's package on the path and a Lambda-like environment; the best of several runs is reported,
since the first one also pays for compiling bytecode. A handler that does not exist yet is reported as
missing, and one that fails to import is reported with its error.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 300
LAMBDA_ENV = {
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "CASELINE_ADAPTERS": "aws",
    "CASELINE_TABLE_NAME": "caseline",
    "CASELINE_IDEMPOTENCY_TABLE_NAME": "caseline-idempotency",
    "CASELINE_EVENT_BUS_NAME": "caseline",
    "POWERTOOLS_METRICS_NAMESPACE": "Caseline",
    "CASELINE_CONNECTIONS_TABLE_NAME": "caseline-connections",
    "CASELINE_WEBSOCKET_ENDPOINT": "https://abc123.execute-api.eu-west-1.amazonaws.com/live",
    "CASELINE_COGNITO_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example",
    "CASELINE_COGNITO_CLIENT_ID": "exampleclientid",
    "CASELINE_ATTACHMENTS_BUCKET": "caseline-attachments-111111111111-eu-west-1",
    # What Lambda itself sets for a python3.12 function with JSON logs and active tracing. LAMBDA_TASK_ROOT
    # (set per function below) matters: without it Powertools' Tracer believes it runs outside Lambda and
    # disables itself, and the X-Ray recorder takes its off-Lambda path (a sampler that builds an X-Ray
    # client), so the figure would describe neither what tracing costs in Lambda nor what it does there.
    # Tracing is left on, as the functions are deployed (no POWERTOOLS_TRACE_DISABLED).
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "AWS_LAMBDA_LOG_LEVEL": "INFO",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
}


def deployed_functions() -> tuple[str, ...]:
    """The functions the CDK app deploys: the catalog's API functions and the event-fed ones."""
    sys.path[:0] = [str(ROOT / "infra"), str(ROOT / "layers" / "core" / "python")]
    from caseline_cdk.routes import api_routes
    from caseline_cdk.stacks.service import EVENT_FUNCTIONS

    return (*(routes.function.name for routes in api_routes()), *EVENT_FUNCTIONS)


def synth(outdir: Path) -> float:
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "infra/app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"synth failed:\n{result.stderr[-3000:]}")
    return elapsed


def resources_per_stack(outdir: Path) -> dict[str, int]:
    counts = {}
    for template in sorted(outdir.glob("*.template.json")):
        counts[template.name.removesuffix(".template.json")] = len(json.loads(template.read_text())["Resources"])
    return counts


def lambda_packages(outdir: Path) -> list[tuple[str, int, int]]:
    """(asset, unzipped bytes, zipped bytes) of every directory asset CDK zips (Lambda code and layers)."""
    names: dict[str, str] = {}
    for manifest in outdir.glob("*.assets.json"):
        for asset in json.loads(manifest.read_text()).get("files", {}).values():
            if asset["source"].get("packaging") == "zip":
                names.setdefault(asset["source"]["path"], asset.get("displayName", asset["source"]["path"]))
    packages = []
    seen: set[str] = set()  # the same asset is staged once per stack that uses it
    for asset, display in names.items():
        if display in seen:
            continue
        seen.add(display)
        path = outdir / asset
        if not path.is_dir():
            continue
        files = [p for p in path.rglob("*") if p.is_file()]
        raw = sum(p.stat().st_size for p in files)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, file.relative_to(path))
        packages.append((display, raw, buffer.tell()))
    return sorted(packages, key=lambda p: p[2], reverse=True)


# `import handler` timed twice in one process: wall time by -X importtime (what a cold start waits for) and
# CPU time (what the import itself costs; steadier than wall time when the machine is busy).
_TIMED_IMPORT = "import time; started = time.process_time(); import handler; print(time.process_time() - started)"


def import_time_ms(name: str, runs: int, *, compile_package: bool = False) -> str:
    """Best of `runs`. Bytecode is cached after the first run (PYTHONDONTWRITEBYTECODE from the caller's
    environment is dropped, or every run would compile our package again). With `compile_package`, the
    `caseline` package and the handler are compiled at every run from a copy without bytecode, as in Lambda
    today: the core layer ships no .pyc and /opt is read-only (ADR 0102)."""
    directory = ROOT / "functions" / name
    if not (directory / "handler.py").is_file():
        return "missing"
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        **LAMBDA_ENV,
        "POWERTOOLS_SERVICE_NAME": name,
        "LAMBDA_TASK_ROOT": str(directory),
        "PYTHONPATH": str(ROOT / "layers" / "core" / "python"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        if compile_package:
            shutil.copytree(ROOT / "layers" / "core" / "python" / "caseline", Path(tmp) / "python" / "caseline",
                            ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(directory / "handler.py", Path(tmp) / "handler.py")
            directory = Path(tmp)
            env |= {"PYTHONPATH": str(Path(tmp) / "python"), "PYTHONDONTWRITEBYTECODE": "1"}
        return _best_import_time(directory, env, runs)


def _best_import_time(directory: Path, env: dict[str, str], runs: int) -> str:
    walls, cpus = [], []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", _TIMED_IMPORT],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            return "import failed: " + result.stderr.strip().splitlines()[-1]
        cpus.append(float(result.stdout.strip()) * 1000)
        for line in result.stderr.splitlines():
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[2] == "handler":
                walls.append(int(parts[1]) / 1000)
    if not walls:
        return "no importtime line for handler"
    wall, cpu = min(walls), min(cpus)
    verdict = "ok" if wall < GOAL_MS else f"over the {GOAL_MS} ms goal"
    return f"{wall:5.0f} ms wall, {cpu:5.0f} ms CPU ({verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="import-time runs per handler (best is kept)")
    parser.add_argument("--no-synth", action="store_true", help="only the import times (no synth, no packages)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these handlers' import times")
    parser.add_argument("--compile-package", action="store_true",
                        help="compile caseline and the handler at every run, as Lambda does with today's layer")
    args = parser.parse_args()
    if not args.no_synth:
        synth_figures()
    load = os.getloadavg()[0]
    bytecode = "caseline compiled at every run" if args.compile_package else "bytecode cached"
    print(f"cold-start import time per handler (best of {args.runs}, {bytecode}; load {load:.1f} on "
          f"{os.cpu_count()} CPUs):")
    for name in deployed_functions():
        if args.only is None or name in args.only:
            print(f"  {name:18} {import_time_ms(name, args.runs, compile_package=args.compile_package)}")


def synth_figures() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp)
        seconds = synth(outdir)
        print(f"synth (python infra/app.py, both regions, cdk-nag included): {seconds:.1f} s")
        counts = resources_per_stack(outdir)
        print(f"resources per stack (total {sum(counts.values())}):")
        for stack, count in counts.items():
            print(f"  {stack:40} {count:4}")
        packages = lambda_packages(outdir)
        print("Lambda packages (largest first):")
        for what, raw, zipped in packages:
            print(f"  {what:58} {raw / 2**20:6.2f} MiB unzipped {zipped / 2**20:6.2f} MiB zipped")


if __name__ == "__main__":
    main()
