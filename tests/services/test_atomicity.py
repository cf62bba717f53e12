"""A command that fails half-way leaves nothing behind, on both adapters."""

from __future__ import annotations

import pytest
from caseline.domain.common import Channel
from caseline.domain.errors import AlreadyExists
from caseline.ports.table import Table
from caseline.services import cases
from caseline.services.commands import AddReply, CustomerRef, OpenCase, UpdateCustomer
from caseline.services.customers import update_customer

from ..conftest import World


class Boom(RuntimeError):
    pass


def _snapshot(table: Table) -> dict[tuple[str, str], dict]:
    # The case-number counter may move on a failed open (numbers can have gaps, like every ticket system's).
    return {(i["pk"], i["sk"]): i for i in table.scan() if not i["pk"].startswith("COUNTER#")}


def test_a_failure_after_some_writes_were_prepared_writes_nothing(platform, world: World, monkeypatch) -> None:
    before = _snapshot(platform.table)
    real_publish = type(platform.deps.store.begin()).publish
    calls = {"n": 0}

    def publish_then_fail(self, event):
        calls["n"] += 1
        real_publish(self, event)
        raise Boom("the process died half-way through the command")

    monkeypatch.setattr(type(platform.deps.store.begin()), "publish", publish_then_fail)
    command = OpenCase(channel=Channel.EMAIL, subject="x", text="y", requester=CustomerRef(email="new@example.net"))
    with pytest.raises(Boom):
        cases.open_case(platform.deps, world.staff(world.agent), command)
    assert calls["n"] == 1
    assert _snapshot(platform.table) == before


def test_a_failed_condition_inside_the_transaction_writes_nothing(platform, world: World) -> None:
    case = cases.open_case(platform.deps, world.staff(world.agent), OpenCase(
        channel=Channel.EMAIL, subject="s", text="t", requester=CustomerRef(customer_id=world.alice_id)))
    before = _snapshot(platform.table)
    # Bob's phone is taken: Alice's update claims it as the last step and must fail as a whole.
    with pytest.raises(AlreadyExists):
        update_customer(platform.deps, world.staff(world.agent), world.alice_id,
                        UpdateCustomer(name="Alice Renamed", phones=["+4930123456"]), expected_version=None)
    assert _snapshot(platform.table) == before
    assert platform.deps.store.get_customer(world.alice_id).name == "Alice Example"
    assert platform.deps.store.get_case(case.id).version == 1


def test_the_table_refuses_a_transaction_midway_on_the_adapter_itself(platform, world: World, monkeypatch) -> None:
    """Force the adapter to fail while applying the transaction: nothing may be half-applied."""
    case = cases.open_case(platform.deps, world.staff(world.agent), OpenCase(
        channel=Channel.EMAIL, subject="s", text="t", requester=CustomerRef(customer_id=world.alice_id)))
    before = _snapshot(platform.table)
    real = platform.table.transact

    def transact_with_poisoned_op(ops):
        from caseline.ports.table import Put

        poisoned = [*ops[:-1], Put({"pk": "", "sk": "bad"})]  # invalid key, rejected by both adapters
        return real(poisoned)

    monkeypatch.setattr(platform.table, "transact", transact_with_poisoned_op)
    with pytest.raises(ValueError, match="key"):
        cases.add_reply(platform.deps, world.staff(world.agent), case.id, AddReply(text="hello"))
    monkeypatch.undo()
    assert _snapshot(platform.table) == before
