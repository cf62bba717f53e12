"""Demo seed and bulk load on a fresh SQLite platform: the promised shape, readable through the services.

The demo is seeded once per module (it takes a few seconds) and only read afterwards.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from caseline import bootstrap
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.domain.auth import Principal, Role
from caseline.domain.case import CaseStatus
from caseline.domain.common import Channel
from caseline.ports.clock import FixedClock
from caseline.runtime.bulk_load import bulk_load, bulk_timeline
from caseline.runtime.seed import SeedSummary, is_seeded, seed_demo
from caseline.services import cases as case_service
from caseline.services import customers as customer_service
from caseline.services.audit import verify_all
from caseline.services.context import Request
from caseline.settings import Settings

from ..conftest import START


def _platform(directory: Path) -> bootstrap.Platform:
    table = SqliteTable(directory / "caseline.db", stream_filter=bootstrap.is_outbox_item)
    return bootstrap.build(Settings(data_dir=directory), table=table, clock=FixedClock(START),
                           idempotency=SqliteIdempotencyPersistence(directory / "idempotency.db"))


def _staff(platform: bootstrap.Platform) -> Request:
    agent = platform.deps.store.list_agents(limit=1, cursor=None).items[0]
    return Request(principal=Principal(subject="test", role=agent.role, agent_id=agent.id, name=agent.name))


def _entities(platform: bootstrap.Platform, entity: str) -> list[dict]:
    """Offline check of what is stored (a scan: fine in a test, never on a request path)."""
    return [json.loads(item["data"]) for item in platform.table.scan() if item.get("entity") == entity]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[bootstrap.Platform, SeedSummary]]:
    platform = _platform(tmp_path_factory.mktemp("seed"))
    summary = seed_demo(platform)
    yield platform, summary
    platform.table.close()


def test_seed_writes_the_promised_organisation(seeded) -> None:
    platform, summary = seeded
    store = platform.deps.store
    agents = store.list_agents(limit=100, cursor=None).items
    teams = store.list_teams(limit=100, cursor=None).items
    assert Counter(a.role for a in agents) == {Role.ADMIN: 1, Role.SUPERVISOR: 2, Role.AGENT: 7}
    assert len(teams) == 3 and all(t.manager_id in {a.id for a in agents} for t in teams)
    assert {a.email for a in agents} >= {"ada@caseline.dev", "bruno@caseline.dev"}
    assert len({a.handle for a in agents}) == 10
    assert summary.created and len(summary.logins) == 13
    assert {login.role for login in summary.logins} == {Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.CUSTOMER}


def test_seed_covers_every_channel_and_status(seeded) -> None:
    platform, summary = seeded
    stored = _entities(platform, "case")
    assert len(stored) == summary.cases >= 200
    assert {c["channel"] for c in stored} == {c.value for c in Channel}
    assert {c["status"] for c in stored} == {s.value for s in CaseStatus}
    assert Counter(c["status"] for c in stored) == summary.by_status
    # Conversations, not just first messages: replies, internal notes with mentions, customer follow-ups.
    interactions = _entities(platform, "interaction")
    assert len(interactions) > 3 * len(stored)
    assert any(i["visibility"] == "internal" and i["mentions"] for i in interactions)
    assert sum(i["direction"] == "inbound" for i in interactions) > len(stored)


def test_every_customer_360_loads_with_a_timeline(seeded) -> None:
    platform, summary = seeded
    staff = _staff(platform)
    customers = platform.deps.store.list_customers(limit=200, cursor=None).items
    assert len(customers) == summary.customers >= 50
    assert len({c.locale for c in customers}) >= 10 and len({c.time_zone for c in customers}) >= 10
    kinds: set[str] = set()
    for customer in customers:
        view = customer_service.customer_360(platform.deps, staff, customer.id, page_size=25)
        assert view.customer.id == customer.id and view.timeline.items
        kinds |= {e.kind.value for e in view.timeline.items}
    assert {"order", "payment", "interaction", "case_event"} <= kinds


def test_seed_history_is_backdated_and_audited(seeded) -> None:
    platform, _ = seeded
    opened = sorted(c["created_at"] for c in _entities(platform, "case"))
    assert opened[0] < "2026-09-10" and opened[-1] < START.isoformat()
    report = verify_all(platform.deps.store)
    assert report.records > 0 and report.problems == []


def test_seeding_twice_changes_nothing(seeded) -> None:
    platform, summary = seeded
    assert is_seeded(platform)
    again = seed_demo(platform)
    assert not again.created and len(again.logins) == 10
    assert len(_entities(platform, "case")) == summary.cases


def test_small_bulk_load_gives_readable_queues_and_timelines(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    summary = bulk_load(platform, customers=20, cases=150, entries=900, rng_seed=3)
    staff = _staff(platform)
    assert summary.entries == 900 and len(summary.team_ids) == 3
    queued = [case_service.team_queue(platform.deps, staff, team, CaseStatus.OPEN, limit=25, cursor=None)
              for team in summary.team_ids]
    assert any(page.items for page in queued)
    assert all(c.status is CaseStatus.OPEN for page in queued for c in page.items)
    detail = case_service.get_case(platform.deps, staff, summary.open_case_ids[0], limit=50, cursor=None)
    assert len(detail.interactions.items) == 2

    heavy = customer_service.customer_360(platform.deps, staff, summary.heavy_customer_id, page_size=25)
    total = heavy.counts["timeline_entries"]
    assert len(heavy.timeline.items) == 25 and heavy.timeline.cursor
    times = [e.occurred_at for e in heavy.timeline.items]
    assert times == sorted(times, reverse=True)

    bulk_timeline(platform, summary.typical_customer_id, 130)
    grown = customer_service.customer_360(platform.deps, staff, summary.typical_customer_id, page_size=25)
    assert grown.counts["timeline_entries"] == _timeline_length(platform, staff, summary.typical_customer_id) >= 130
    assert total == _timeline_length(platform, staff, summary.heavy_customer_id)


def _timeline_length(platform: bootstrap.Platform, staff: Request, customer_id: str) -> int:
    length, cursor = 0, None
    while True:
        page = customer_service.customer_timeline(platform.deps, staff, customer_id, limit=200, cursor=cursor,
                                                  kind=None, channel=None)
        length += len(page.items)
        if page.cursor is None:
            return length
        cursor = page.cursor


def test_seed_attaches_screenshots_and_logs_that_are_in_the_blob_store(seeded) -> None:
    platform, _ = seeded
    interactions = _entities(platform, "interaction")
    attached = [(i, ref) for i in interactions for ref in i["attachments"]]
    kinds = Counter(ref["content_type"] for _, ref in attached)
    assert kinds["image/png"] >= 3 and kinds["text/plain"] >= 3
    assert all(i["visibility"] == "public" for i, ref in attached if ref["content_type"] == "image/png")
    for interaction, ref in attached:
        assert ref["key"].startswith(f"cases/{interaction['case_id']}/{ref['sha256']}/")
        blob = platform.deps.blobs.get(ref["key"])
        assert blob.info.size == ref["size"] and blob.info.content_type == ref["content_type"]
    png = next(platform.deps.blobs.get(ref["key"]).data for _, ref in attached if ref["content_type"] == "image/png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
