"""`caseline dev` runs the timer runner: a timer set before a restart fires after it, from the data file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from caseline import bootstrap, timers
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.ports.scheduler import Timer
from caseline.runtime.server import build_local
from caseline.services.sla_config import DEFAULT_POLICY_ID, install_defaults
from caseline.settings import Settings


def test_the_local_platform_fires_timers_set_before_a_restart(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fired: list[Timer] = []
    monkeypatch.setitem(timers.handlers, "test.ping", lambda deps, timer: fired.append(timer))
    settings = Settings(data_dir=tmp_path / "data", jwt_secret="x" * 32)
    first = build_local(settings)
    past = datetime.now(UTC) - timedelta(seconds=1)
    first.platform.deps.scheduler.set(Timer(kind="test.ping", subject="C1", due_at=past, payload={"n": 1}))
    first.stop()
    table = first.platform.table
    assert isinstance(table, SqliteTable)
    table.close()
    bootstrap.use(None)

    second = build_local(settings)
    try:
        assert second.timers is not None
        assert second.timers.fire_due() == 1
        assert [(t.subject, t.payload) for t in fired] == [("C1", {"n": 1})]
        assert second.platform.deps.scheduler.get("test.ping", "C1") is None
    finally:
        second.stop()
        bootstrap.use(None)


def test_sla_defaults_are_installed_once(tmp_path: Path) -> None:
    local = build_local(Settings(data_dir=tmp_path / "data", jwt_secret="x" * 32))
    try:
        deps = local.platform.deps
        first = install_defaults(deps)
        assert first == 2  # no teams yet: the two policies
        assert install_defaults(deps) == 0
        from caseline.adapters.sla_config_store import SlaConfigRepository
        from caseline.services.sla_config import SlaPolicyConfig

        stored = SlaConfigRepository(deps.store).get_policy(DEFAULT_POLICY_ID, SlaPolicyConfig)
        assert stored is not None and stored[1] == 1
    finally:
        local.stop()
        bootstrap.use(None)
