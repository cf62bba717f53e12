"""The audit trail: every mutation recorded with its diff, and tampering detected."""

from __future__ import annotations

import json

from caseline import cli
from caseline.adapters import keys
from caseline.domain.case import CaseStatus, Priority
from caseline.domain.common import Channel
from caseline.runtime.server import build_local
from caseline.services import cases
from caseline.services.audit import verify_all
from caseline.services.commands import AddReply, CustomerRef, OpenCase, UpdateCase
from caseline.settings import Settings

from ..conftest import World, make_world


def _busy_case(platform, world: World):
    agent = world.staff(world.agent)
    case = cases.open_case(platform.deps, agent, OpenCase(channel=Channel.CHAT, subject="Audit me", text="hi",
                                                          requester=CustomerRef(customer_id=world.alice_id)))
    cases.add_reply(platform.deps, agent, case.id, AddReply(text="hello"))
    current = platform.deps.store.get_case(case.id)
    cases.update_case(platform.deps, agent, case.id, UpdateCase(priority=Priority.HIGH, status=CaseStatus.PENDING),
                      expected_version=current.version)
    return case


def test_every_mutation_is_recorded_with_who_what_and_the_diff(platform, world: World) -> None:
    case = _busy_case(platform, world)
    trail = platform.deps.store.audit_trail("case", case.id, limit=50, cursor=None).items
    assert [r.action for r in trail] == ["case.opened", "case.reply_added", "case.updated"]
    last = trail[-1]
    assert last.actor_id == world.agent.id and last.actor_role == "agent" and last.request_id == "req-ada"
    assert last.changes["priority"].before == "normal" and last.changes["priority"].after == "high"
    assert last.changes["status"].after == "pending"
    assert [r.seq for r in trail] == [1, 2, 3] and trail[1].prev_hash == trail[0].hash
    assert not verify_all(platform.deps.store).problems


def _record_item(platform, case_id: str, seq: int) -> dict:
    return platform.table.get(keys.audit_record("case", case_id, seq), now=0)


def test_editing_a_record_is_detected(platform, world: World) -> None:
    case = _busy_case(platform, world)
    item = _record_item(platform, case.id, 2)
    data = json.loads(item["data"])
    data["actor_id"] = "someone-else"
    platform.table.put({**item, "data": json.dumps(data)})
    problems = verify_all(platform.deps.store).problems
    assert [(p.target_id, p.seq, p.problem) for p in problems] == [
        (case.id, 2, "record content does not match its hash")
    ]


def test_deleting_a_record_is_detected_even_the_newest(platform, world: World) -> None:
    case = _busy_case(platform, world)
    platform.table.delete(keys.audit_record("case", case.id, 2))
    assert any("missing" in p.problem for p in verify_all(platform.deps.store).problems)
    other = _busy_case(platform, world)
    platform.table.delete(keys.audit_record("case", other.id, 3))
    assert any(p.target_id == other.id and "head" in p.problem for p in verify_all(platform.deps.store).problems)


def test_cli_verify_exits_nonzero_on_tampering(tmp_path, capsys) -> None:
    local = build_local(Settings(data_dir=tmp_path))
    world = make_world(local.platform)
    case = _busy_case(local.platform, world)
    assert cli.main(["audit", "verify", "--data-dir", str(tmp_path)]) == 0
    local.platform.table.delete(keys.audit_record("case", case.id, 1))
    assert cli.main(["audit", "verify", "--data-dir", str(tmp_path)]) == 1
    assert "BROKEN case/" in capsys.readouterr().out
