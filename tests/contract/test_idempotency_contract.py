"""Powertools idempotency on our SQLite persistence layer and on Powertools' own DynamoDB layer (moto)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemAlreadyExistsError,
    IdempotencyValidationError,
)

from .conftest import IdempotencyBackend


@dataclass
class FakeLambdaContext:
    """What Powertools reads from a Lambda context: the time left, which bounds an INPROGRESS lock."""

    remaining_millis: int = 30_000
    function_name: str = "charge"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@pytest.fixture(autouse=True)
def idempotency_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_IDEMPOTENCY_DISABLED", raising=False)


def make_charge(idempotency: IdempotencyBackend, calls: list[dict[str, Any]]) -> Any:
    config = IdempotencyConfig(event_key_jmespath="order_id", payload_validation_jmespath="amount")
    config.register_lambda_context(FakeLambdaContext())

    @idempotent_function(data_keyword_argument="order", persistence_store=idempotency.store, config=config)
    def charge(order: dict[str, Any]) -> dict[str, Any]:
        calls.append(order)
        if order.get("fail"):
            raise RuntimeError("card declined")
        if order.get("reenter"):
            charge(order=order)
        return {"charged": order["amount"], "call": len(calls)}

    return charge


def test_the_same_payload_runs_once(idempotency: IdempotencyBackend) -> None:
    calls: list[dict[str, Any]] = []
    charge = make_charge(idempotency, calls)
    first = charge(order={"order_id": "o-1", "amount": 10})
    again = charge(order={"order_id": "o-1", "amount": 10})
    assert first == again == {"charged": 10, "call": 1}
    assert len(calls) == 1


def test_a_different_payload_runs_again(idempotency: IdempotencyBackend) -> None:
    calls: list[dict[str, Any]] = []
    charge = make_charge(idempotency, calls)
    charge(order={"order_id": "o-1", "amount": 10})
    assert charge(order={"order_id": "o-2", "amount": 10}) == {"charged": 10, "call": 2}


def test_the_same_key_with_a_different_validated_payload_is_refused(idempotency: IdempotencyBackend) -> None:
    calls: list[dict[str, Any]] = []
    charge = make_charge(idempotency, calls)
    charge(order={"order_id": "o-1", "amount": 10})
    with pytest.raises(IdempotencyValidationError):
        charge(order={"order_id": "o-1", "amount": 99})
    assert len(calls) == 1


def test_an_expired_record_lets_the_function_run_again(idempotency: IdempotencyBackend) -> None:
    calls: list[dict[str, Any]] = []
    charge = make_charge(idempotency, calls)
    charge(order={"order_id": "o-1", "amount": 10})
    idempotency.expire_all()
    assert charge(order={"order_id": "o-1", "amount": 10}) == {"charged": 10, "call": 2}


def test_an_exception_clears_the_in_progress_record(idempotency: IdempotencyBackend) -> None:
    calls: list[dict[str, Any]] = []
    charge = make_charge(idempotency, calls)
    with pytest.raises(RuntimeError):
        charge(order={"order_id": "o-1", "amount": 10, "fail": True})
    assert charge(order={"order_id": "o-1", "amount": 10}) == {"charged": 10, "call": 2}


def test_a_call_while_the_first_is_in_progress_is_refused(idempotency: IdempotencyBackend) -> None:
    calls: list[dict[str, Any]] = []
    charge = make_charge(idempotency, calls)
    with pytest.raises(IdempotencyAlreadyInProgressError):
        charge(order={"order_id": "o-1", "amount": 10, "reenter": True})
    assert len(calls) == 1


def test_an_in_progress_lock_ends_with_the_invocation_time(idempotency: IdempotencyBackend) -> None:
    """A crashed invocation's INPROGRESS record blocks others only until its Lambda time would be up."""
    store = idempotency.store
    store.configure(IdempotencyConfig(event_key_jmespath="order_id"), function_name="charge")
    order = {"order_id": "o-1"}
    store.save_inprogress(order, remaining_time_in_millis=60_000)
    with pytest.raises(IdempotencyItemAlreadyExistsError) as caught:
        store.save_inprogress(order, remaining_time_in_millis=60_000)
    assert caught.value.old_data_record is not None
    assert caught.value.old_data_record.status == "INPROGRESS"

    store.save_inprogress({"order_id": "o-2"}, remaining_time_in_millis=-1_000)  # its time ran out
    store.save_inprogress({"order_id": "o-2"}, remaining_time_in_millis=60_000)
    assert store.get_record({"order_id": "o-2"}).in_progress_expiry_timestamp is not None


def test_a_completed_record_ignores_a_passed_in_progress_expiry(idempotency: IdempotencyBackend) -> None:
    store = idempotency.store
    store.configure(IdempotencyConfig(event_key_jmespath="order_id"), function_name="charge")
    order = {"order_id": "o-1"}
    store.save_inprogress(order, remaining_time_in_millis=-1_000)
    store.save_success(order, result={"ok": True})
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        store.save_inprogress(order, remaining_time_in_millis=60_000)
    record = store.get_record(order)
    assert (record.status, record.response_json_as_dict()) == ("COMPLETED", {"ok": True})
