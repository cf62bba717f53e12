"""Lambda asset builds without Docker.

The core layer is our `caseline` package plus its third-party dependencies, installed as Linux/arm64
wheels for the Lambda Python version with `pip install --platform ... --only-binary=:all:`. Building from
binary wheels only means no compiler and no container, and the result is the same on a laptop and in CI.

Two levels of cache under `.cache/lambda-build/` keep synth fast and offline after the first run:

* `deps-<hash>/`: the pip install, keyed by the pinned requirements and the target platform. It changes
  only when pyproject.toml's pins change, and pip itself is never run when it exists.
* `layer-core-<hash>/python/`: the layer's content root, the deps hard-linked beside a copy of
  `layers/core/python/caseline`, keyed by the deps hash and the package's source files.

* `deps-<hash>/` again for an optional-dependency group (`extra_layer("mail")`): a function that needs a
  heavy library only it uses gets it as a layer of its own, e.g. the inbound-mail function's language
  models (lingua, about 96 MB), so the core layer every function shares stays small.

Powertools and boto3 are left out of our layer on purpose: the public Powertools layer carries the pinned
Powertools release (and its tracer extra), and the Lambda runtime carries boto3. Bundling them again would
double the package and race the public layer for `/opt/python`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .config import REPO_ROOT

LAMBDA_PYTHON = "3.12"
PIP_PLATFORM = "manylinux2014_aarch64"
# Provided at run time by the public Powertools layer (powertools + aws-xray-sdk) or the Lambda runtime
# (boto3/botocore); never bundled in our layer.
PROVIDED_AT_RUNTIME = frozenset({"aws-lambda-powertools", "boto3"})
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class BuildError(RuntimeError):
    """An asset could not be built; the message says what to run or create."""


@dataclass(frozen=True)
class LambdaBuild:
    """Where sources come from and where built assets go."""

    repo_root: Path = REPO_ROOT
    cache_dir: Path | None = None

    @property
    def cache(self) -> Path:
        configured = os.environ.get("CASELINE_LAMBDA_BUILD_CACHE")
        return self.cache_dir or (Path(configured) if configured else self.repo_root / ".cache" / "lambda-build")

    def layer_requirements(self) -> list[str]:
        """The pinned runtime dependencies our layer has to carry."""
        data = tomllib.loads((self.repo_root / "pyproject.toml").read_text())
        keep = []
        for requirement in data["project"]["dependencies"]:
            name = re.split(r"[\[=<>!~ ]", requirement, maxsplit=1)[0].lower()
            if name not in PROVIDED_AT_RUNTIME:
                keep.append(requirement)
        return sorted(keep)

    def extra_requirements(self, extra: str) -> list[str]:
        """The pins of one optional-dependency group of pyproject.toml, without what the core layer or the
        runtime already carries."""
        data = tomllib.loads((self.repo_root / "pyproject.toml").read_text())
        groups = data["project"].get("optional-dependencies", {})
        if extra not in groups:
            raise BuildError(f"pyproject.toml has no optional-dependencies group {extra!r}")
        shared = {_name(requirement) for requirement in self.layer_requirements()} | PROVIDED_AT_RUNTIME
        return sorted(requirement for requirement in groups[extra] if _name(requirement) not in shared)

    def dependencies(self, requirements: list[str] | None = None, *, purpose: str = "the core layer") -> Path:
        """Install third-party wheels once per set of pins; return the install directory."""
        requirements = self.layer_requirements() if requirements is None else requirements
        key = _digest([PIP_PLATFORM, LAMBDA_PYTHON, *requirements])
        target = self.cache / f"deps-{key}"
        if target.is_dir():
            return target
        staging = self.cache / f".deps-{key}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
            "--platform", PIP_PLATFORM, "--implementation", "cp", "--python-version", LAMBDA_PYTHON,
            "--only-binary=:all:", "--target", str(staging), *requirements,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our argv)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise BuildError(
                f"could not install the wheels of {purpose} (needs the package index once, then works offline):\n"
                + result.stderr[-2000:]
            )
        shutil.rmtree(staging / "bin", ignore_errors=True)
        staging.rename(target)
        return target

    def core_layer(self) -> Path:
        """The directory to hand to `lambda.Code.from_asset` for the core layer (it contains `python/`)."""
        package = self.repo_root / "layers" / "core" / "python" / "caseline"
        if not (package / "__init__.py").is_file():
            raise BuildError(f"the caseline package is missing at {package}")
        deps = self.dependencies()
        key = _digest([deps.name, *_tree_fingerprint(package)])
        layer = self.cache / f"layer-core-{key}"
        if layer.is_dir():
            return layer
        staging = self.cache / f".layer-core-{key}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(deps, staging / "python", copy_function=_link_or_copy, ignore=_SKIP)
        shutil.copytree(package, staging / "python" / "caseline", ignore=_SKIP)
        staging.rename(layer)
        _prune(self.cache, keep={deps.name, layer.name}, prefix="layer-core-")
        return layer

    def extra_layer(self, extra: str) -> Path:
        """The directory to hand to `lambda.Code.from_asset` for a layer holding one optional-dependency
        group (it contains `python/`). Built from the same wheel cache, so synth stays offline after once."""
        requirements = self.extra_requirements(extra)
        if not requirements:
            raise BuildError(f"the optional-dependencies group {extra!r} adds nothing to the core layer")
        deps = self.dependencies(requirements, purpose=f"the {extra!r} extra layer")
        layer = self.cache / f"layer-extra-{extra}-{deps.name.removeprefix('deps-')}"
        if layer.is_dir():
            return layer
        staging = self.cache / f".{layer.name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(deps, staging / "python", copy_function=_link_or_copy, ignore=_SKIP)
        staging.rename(layer)
        _prune(self.cache, keep={layer.name}, prefix=f"layer-extra-{extra}-")
        return layer

    def function_source(self, functions_dir: Path, name: str) -> Path:
        """A function's asset is its `functions/<name>/` directory only: dependencies live in layers."""
        source = functions_dir / name
        if not (source / "handler.py").is_file():
            raise BuildError(f"{source / 'handler.py'} does not exist; every deployed function needs one")
        return source


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>!~ ]", requirement, maxsplit=1)[0].lower()


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _tree_fingerprint(root: Path) -> list[str]:
    entries = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries.append(f"{path.relative_to(root).as_posix()}:{digest}")
    return entries


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _prune(cache: Path, *, keep: set[str], prefix: str) -> None:
    """Drop stale layer builds so the cache does not grow with every edit to the caseline package."""
    for entry in cache.glob(f"{prefix}*"):
        if entry.name not in keep and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
