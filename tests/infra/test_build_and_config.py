"""Lambda asset builds (no Docker, cached), deployment configuration and the ASL inlining helper."""

from __future__ import annotations

import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest
from caseline_cdk.build import PROVIDED_AT_RUNTIME, BuildError, LambdaBuild
from caseline_cdk.config import ConfigError, DeploymentConfig
from caseline_cdk.constructs.functions import retention
from caseline_cdk.constructs.workflows import DefinitionError, inline_definition

from .conftest import FIXTURES, ROOT


def test_layer_requirements_leave_out_what_the_runtime_and_powertools_layer_provide() -> None:
    requirements = LambdaBuild().layer_requirements()
    names = {r.split("==")[0].split("[")[0] for r in requirements}
    assert names.isdisjoint(PROVIDED_AT_RUNTIME)
    assert {"pydantic", "python-ulid", "pyjwt", "nh3"} <= names
    assert all("==" in r for r in requirements)


def test_core_layer_holds_caseline_and_arm64_wheels_but_not_powertools_or_boto3() -> None:
    layer = LambdaBuild().core_layer() / "python"
    assert (layer / "caseline" / "settings.py").is_file()
    assert (layer / "pydantic").is_dir()
    assert any("aarch64" in p.name for p in (layer / "pydantic_core").glob("*.so"))
    assert not (layer / "aws_lambda_powertools").exists()
    assert not (layer / "boto3").exists()
    assert not list(layer.rglob("__pycache__"))


def test_a_cached_build_never_runs_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    build = LambdaBuild()
    first = build.core_layer()

    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran although the wheels are cached")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert build.core_layer() == first


def test_the_layer_is_rebuilt_when_the_package_changes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    package = repo / "layers" / "core" / "python" / "caseline"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VERSION = 1\n")
    (repo / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    cache = tmp_path / "cache"
    cache.mkdir()
    wheels = LambdaBuild().dependencies()  # reuse the installed wheels; prune only this test's cache
    (cache / wheels.name).symlink_to(wheels, target_is_directory=True)
    build = LambdaBuild(repo_root=repo, cache_dir=cache)
    before = build.core_layer()
    (package / "__init__.py").write_text("VERSION = 2\n")
    after = build.core_layer()
    assert before != after
    assert (after / "python" / "caseline" / "__init__.py").read_text() == "VERSION = 2\n"
    assert not before.exists()  # stale builds are pruned


def test_a_function_without_handler_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"handler\.py"):
        LambdaBuild().function_source(tmp_path, "missing")


def test_config_defaults_synthesize_offline() -> None:
    config = DeploymentConfig()
    assert config.regions == ("eu-west-1", "eu-central-1")
    assert config.active_region == config.primary_region
    assert config.attachments_bucket_name("eu-central-1") == "caseline-attachments-111111111111-eu-central-1"
    assert (
        config.data_key_alias_arn("eu-central-1")
        == "arn:aws:kms:eu-central-1:111111111111:alias/caseline-data"
    )


def test_config_from_context_coerces_and_rejects_unknown_keys() -> None:
    app = cdk.App(
        context={
            "caseline:primary_region": "us-east-1",
            "caseline:secondary_region": "us-west-2",
            "caseline:external_systems": "crm,erp",
            "caseline:log_retention_days": "30",
        }
    )
    config = DeploymentConfig.from_node(app.node)
    assert config.active_region == "us-east-1"
    assert config.external_systems == ("crm", "erp")
    assert config.log_retention_days == 30
    assert config.powertools_version == "3.37.0"
    with pytest.raises(ConfigError, match="unknown context key"):
        DeploymentConfig.from_node(cdk.App(context={"caseline:primary_regoin": "eu-west-1"}).node)


@pytest.mark.parametrize(
    "values",
    [
        {"account": "12345"},
        {"primary_region": "eu-west-1", "secondary_region": "eu-west-1"},
        {"active_region": "us-east-1"},
        {"first_party_api_key": "short"},
        {"external_systems": ("Bad Name",)},
    ],
)
def test_config_rejects_bad_values(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        DeploymentConfig(**values)  # type: ignore[arg-type]


def test_log_retention_must_be_one_cloudwatch_offers() -> None:
    assert retention(90) is not None
    with pytest.raises(ValueError, match="log retention"):
        retention(45)


def test_asl_placeholders_and_substitutions_must_match() -> None:
    asl = FIXTURES / "tiny.asl.json"
    assert inline_definition(asl, {"CheckFunctionArn": "arn", "DoneMarker": "x"}) is not None
    with pytest.raises(DefinitionError, match="without a value"):
        inline_definition(asl, {"CheckFunctionArn": "arn"})
    with pytest.raises(DefinitionError, match=r"values without a placeholder \['Extra'\]"):
        inline_definition(asl, {"CheckFunctionArn": "arn", "DoneMarker": "x", "Extra": "y"})


def test_asl_must_be_json(tmp_path: Path) -> None:
    broken = tmp_path / "broken.asl.json"
    broken.write_text("{ not json")
    with pytest.raises(DefinitionError, match="not valid JSON"):
        inline_definition(broken, {})
