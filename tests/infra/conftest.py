"""One synthesized app per test session, shared by every infra test.

Synthesizing the whole app (both regions, cdk-nag included) takes seconds, not milliseconds, so it is done
once: the cloud assembly is written to a temporary directory and tests read the templates from there.
A failing cdk-nag check does not hide the templates; it is recorded and asserted by its own test.

Handlers are taken from `functions/`. One that is not written yet is replaced by a stand-in, so the
infrastructure tests do not wait for the code; `make synth` itself refuses a missing handler.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
for entry in (ROOT / "infra", ROOT / "layers" / "core" / "python"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import assertions  # noqa: E402
from caseline_cdk.app import build_app, new_app  # noqa: E402
from caseline_cdk.config import DeploymentConfig  # noqa: E402
from caseline_cdk.routes import api_routes  # noqa: E402
from caseline_cdk.stacks.service import EVENT_FUNCTIONS  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
FUNCTION_NAMES = (*(routes.function.name for routes in api_routes()), *EVENT_FUNCTIONS)
# The session's web tree: the agent app "built", the portal not, so both ways of deploying a site are synthesized.
BUILT_AGENT = {
    "index.html": "<!doctype html><title>agent</title>",
    "assets/app.js": "console.log('agent')",
    "config.json": '{"auth": {"mode": "local"}}',  # a local build's own config must not reach AWS
}
PRIMARY, SECONDARY = DeploymentConfig().regions


@dataclass
class Synthesized:
    outdir: Path
    stack_names: dict[str, str]
    seconds: float
    error: str | None
    stand_ins: list[str]
    _templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def raw(self, key: str) -> dict[str, Any]:
        name = self.stack_names[key]
        if name not in self._templates:
            self._templates[name] = json.loads((self.outdir / f"{name}.template.json").read_text())
        return self._templates[name]

    def template(self, key: str) -> assertions.Template:
        return assertions.Template.from_json(self.raw(key))

    def resources(self, key: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.raw(key)["Resources"].items() if v["Type"] == resource_type}

    @property
    def keys(self) -> list[str]:
        return list(self.stack_names)

    def validation_report(self) -> dict[str, Any]:
        path = self.outdir / "validation-report.json"
        return json.loads(path.read_text()) if path.exists() else {"pluginReports": []}


def functions_tree(target: Path) -> tuple[Path, list[str]]:
    """The real handlers where they exist, a stand-in for each one not written yet."""
    stand_ins = []
    for name in FUNCTION_NAMES:
        real = ROOT / "functions" / name
        if (real / "handler.py").is_file():
            shutil.copytree(real, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (target / name).mkdir(parents=True)
            shutil.copy(FIXTURES / "handler.py", target / name / "handler.py")
            stand_ins.append(name)
    return target, stand_ins


def web_tree(target: Path) -> Path:
    for name, text in BUILT_AGENT.items():
        (target / "agent" / "dist" / name).parent.mkdir(parents=True, exist_ok=True)
        (target / "agent" / "dist" / name).write_text(text)
    (target / "portal").mkdir()
    return target


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    functions_dir, stand_ins = functions_tree(tmp_path_factory.mktemp("functions"))
    web_dir = web_tree(tmp_path_factory.mktemp("web"))
    outdir = tmp_path_factory.mktemp("cdk.out")
    started = time.perf_counter()
    app = new_app({"caseline:functions_dir": str(functions_dir), "caseline:web_dir": str(web_dir)}, outdir=outdir)
    stacks = build_app(app)
    error = None
    try:
        app.synth()
    except RuntimeError as failure:
        error = str(failure)
    yield Synthesized(
        outdir=outdir,
        stack_names={key: stack.stack_name for key, stack in stacks.items()},
        seconds=time.perf_counter() - started,
        error=error,
        stand_ins=stand_ins,
    )


@pytest.fixture(scope="session")
def stand_in_functions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A functions tree made only of stand-ins, for tests that build small stacks of their own."""
    return functions_tree_of_stand_ins(tmp_path_factory.mktemp("stand-ins"))


def functions_tree_of_stand_ins(target: Path) -> Path:
    for name in (*FUNCTION_NAMES, "consumer"):
        (target / name).mkdir(parents=True)
        shutil.copy(FIXTURES / "handler.py", target / name / "handler.py")
    return target
