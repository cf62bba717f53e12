"""The Table port's contract (see `caseline.ports.table`), run against SQLite and DynamoDB on moto."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from caseline.adapters.aws.dynamodb_table import DynamoDbTable, create_table
from caseline.ports.table import (
    INDEXES,
    MAX_TRANSACTION_ITEMS,
    Check,
    Condition,
    ConditionFailed,
    Delete,
    Increment,
    Item,
    Put,
    Query,
    SortCondition,
    SortOp,
    Table,
    TransactionCancelled,
    page_key,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.aws_calls import count_dynamodb_calls

NOW = 1_700_000_000
GSIS = [name for name in INDEXES if name is not None]


def key(pk: str, sk: str = "S") -> dict[str, str]:
    return {"pk": pk, "sk": sk}


def put_all(table: Table, items: list[Item]) -> None:
    """One put each: moto copies the whole table for every transaction, which makes bulk loads crawl."""
    for item in items:
        table.put(item)


def walk(table: Table, query: Query) -> tuple[list[Item], list[int]]:
    """Every page of `query` until last_key is None: the items in order and each page's size."""
    items: list[Item] = []
    sizes: list[int] = []
    start = None
    for _ in range(1000):
        page = table.query(Query(**{**query.__dict__, "start_after": start}), now=NOW)
        items += page.items
        sizes.append(len(page.items))
        if page.last_key is None:
            return items, sizes
        start = page.last_key
    raise AssertionError("paging did not end")


# --- items ----------------------------------------------------------------------------------------------
SCALARS: Item = {
    "text": "plain",
    "empty": "",
    "unicode": "Zoë — 東京 ✓ 😀 e\u0301",
    "zero": 0,
    "negative": -42,
    "big": 10**37,
    "yes": True,
    "no": False,
    "nothing": None,
    "json": '{"nested": [1, 2, {"a": null}]}',
}


def test_put_get_round_trips_every_scalar_with_its_type(table: Table) -> None:
    table.put({**key("ROUND"), **SCALARS})
    got = table.get(key("ROUND"), now=NOW)
    assert got == {**key("ROUND"), **SCALARS}
    assert {name: type(value) for name, value in got.items()} == {
        name: type(value) for name, value in {**key("ROUND"), **SCALARS}.items()
    }


def test_items_over_400_kb_in_utf_8_are_refused_however_few_characters_they_have(table: Table) -> None:
    overhead = len("pk") + len("SIZE") + len("sk") + len("S") + len("data")
    table.put({**key("SIZE"), "data": "x" * 380_000})  # (moto counts a little more than DynamoDB does)
    with pytest.raises(ValueError):
        table.put({**key("SIZE"), "data": "x" * (400 * 1024 - overhead + 1)})
    with pytest.raises(ValueError):  # 140,000 characters, 420,000 bytes
        table.put({**key("SIZE"), "data": "東" * 140_000})
    with pytest.raises(ValueError):  # the attribute names count as well, in UTF-8 too
        table.put({**key("SIZE"), "data": "x" * (400 * 1024 - overhead - 1), "é": ""})


def test_unicode_keys_round_trip(table: Table) -> None:
    table.put({**key("CUST#Zoë", "E#東京😀"), "n": 1})
    assert table.get(key("CUST#Zoë", "E#東京😀"), now=NOW) == {**key("CUST#Zoë", "E#東京😀"), "n": 1}


def test_get_of_a_missing_item_is_none(table: Table) -> None:
    assert table.get(key("NOPE"), now=NOW) is None


def test_put_replaces_the_whole_item(table: Table) -> None:
    table.put({**key("A"), "old": 1, "kept": "x"})
    table.put({**key("A"), "kept": "y"})
    assert table.get(key("A"), now=NOW) == {**key("A"), "kept": "y"}


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ({**key("A"), "ratio": 0.5}, TypeError),
        ({**key("A"), "tags": ["a"]}, TypeError),
        ({"pk": "A", "sk": ""}, ValueError),
        ({"pk": "A"}, ValueError),
        ({**key("A"), "gsi1pk": 7, "gsi1sk": "x"}, ValueError),
        ({**key("A"), "gsi2sk": ""}, ValueError),
        ({**key("A"), "expires_at": "soon"}, TypeError),
        ({**key("A"), "big": 10**38}, ValueError),
        ({**key("A"), "data": "x" * 410_000}, ValueError),
    ],
)
def test_items_dynamodb_would_refuse_are_refused_and_not_written(
    table: Table, item: Item, error: type[Exception]
) -> None:
    with pytest.raises(error):
        table.put(item)
    assert table.get(key("A"), now=NOW) is None


# --- conditional writes ---------------------------------------------------------------------------------
def test_put_if_absent_writes_once(table: Table) -> None:
    table.put({**key("A"), "v": 1}, Condition.absent())
    with pytest.raises(ConditionFailed) as caught:
        table.put({**key("A"), "v": 2}, Condition.absent())
    assert caught.value.failed == [0]
    assert isinstance(caught.value, TransactionCancelled)
    assert table.get(key("A"), now=NOW) == {**key("A"), "v": 1}


def test_put_if_present_needs_the_item(table: Table) -> None:
    with pytest.raises(ConditionFailed):
        table.put({**key("A"), "v": 1}, Condition.present())
    assert table.get(key("A"), now=NOW) is None
    table.put({**key("A"), "v": 1})
    table.put({**key("A"), "v": 2}, Condition.present())
    assert table.get(key("A"), now=NOW) == {**key("A"), "v": 2}


def test_attribute_is_guards_optimistic_concurrency(table: Table) -> None:
    table.put({**key("CASE"), "version": 1, "state": "open"})
    table.put({**key("CASE"), "version": 2, "state": "pending"}, Condition.attribute_is(version=1))
    with pytest.raises(ConditionFailed):
        table.put({**key("CASE"), "version": 2, "state": "solved"}, Condition.attribute_is(version=1))
    assert table.get(key("CASE"), now=NOW) == {**key("CASE"), "version": 2, "state": "pending"}


def test_attribute_is_on_a_missing_item_fails(table: Table) -> None:
    with pytest.raises(ConditionFailed):
        table.put({**key("A"), "v": 1}, Condition.attribute_is(v=None))
    assert table.get(key("A"), now=NOW) is None


@pytest.mark.parametrize(
    ("stored", "expected", "holds"),
    [
        ({"flag": True}, {"flag": True}, True),
        ({"flag": True}, {"flag": 1}, False),
        ({"flag": 1}, {"flag": True}, False),
        ({"flag": 0}, {"flag": False}, False),
        ({"flag": "1"}, {"flag": 1}, False),
        ({"flag": None}, {"flag": None}, True),
        ({}, {"flag": None}, True),
        ({"flag": ""}, {"flag": None}, False),
        ({"a": 1, "b": "x"}, {"a": 1, "b": "x"}, True),
        ({"a": 1, "b": "x"}, {"a": 1, "b": "y"}, False),
    ],
)
def test_attribute_is_compares_values_with_their_types(
    table: Table, stored: Item, expected: dict[str, Any], holds: bool
) -> None:
    table.put({**key("A"), **stored})
    ops = [Check(key("A"), Condition.attribute_is(**expected)), Put({**key("B"), "written": True})]
    if holds:
        table.transact(ops)
        assert table.get(key("B"), now=NOW) is not None
    else:
        with pytest.raises(TransactionCancelled):
            table.transact(ops)
        assert table.get(key("B"), now=NOW) is None


def test_conditional_delete(table: Table) -> None:
    table.put({**key("IDENT"), "owner_id": "c1"})
    with pytest.raises(ConditionFailed):
        table.delete(key("IDENT"), Condition.attribute_is(owner_id="c2"))
    assert table.get(key("IDENT"), now=NOW) is not None
    table.delete(key("IDENT"), Condition.attribute_is(owner_id="c1"))
    assert table.get(key("IDENT"), now=NOW) is None


def test_delete_of_a_missing_item_is_quiet_unless_conditioned(table: Table) -> None:
    table.delete(key("NOPE"))
    with pytest.raises(ConditionFailed):
        table.delete(key("NOPE"), Condition.present())


def test_conditions_see_an_expired_item_until_it_is_removed(table: Table) -> None:
    table.put({**key("MARK"), "expires_at": NOW - 10})
    assert table.get(key("MARK"), now=NOW) is None
    with pytest.raises(ConditionFailed):
        table.put({**key("MARK"), "expires_at": NOW + 10}, Condition.absent())


# --- transactions ---------------------------------------------------------------------------------------
def test_transaction_with_a_failing_condition_in_the_middle_writes_nothing(table: Table) -> None:
    table.put({**key("TAKEN"), "v": 1})
    table.put({**key("GONE"), "v": 1})
    ops = [
        Put({**key("NEW"), "v": 1}, Condition.absent()),
        Put({**key("TAKEN"), "v": 2}, Condition.absent()),
        Delete(key("GONE")),
        Increment(key("COUNTER"), {"n": 1}),
    ]
    with pytest.raises(TransactionCancelled) as caught:
        table.transact(ops)
    assert caught.value.failed == [1]
    assert table.get(key("NEW"), now=NOW) is None
    assert table.get(key("TAKEN"), now=NOW) == {**key("TAKEN"), "v": 1}
    assert table.get(key("GONE"), now=NOW) == {**key("GONE"), "v": 1}
    assert table.get(key("COUNTER"), now=NOW) is None


def test_transaction_names_every_failing_condition(table: Table) -> None:
    table.put({**key("A"), "v": 1})
    table.put({**key("C"), "v": 1})
    ops = [
        Put({**key("A"), "v": 2}, Condition.absent()),
        Put({**key("B"), "v": 2}, Condition.absent()),
        Delete(key("C"), Condition.attribute_is(v=9)),
    ]
    with pytest.raises(TransactionCancelled) as caught:
        table.transact(ops)
    assert caught.value.failed == [0, 2]
    assert table.get(key("B"), now=NOW) is None


def test_transaction_applies_every_kind_of_operation(table: Table) -> None:
    table.put({**key("OLD"), "v": 1})
    table.put({**key("GUARD"), "state": "open"})
    table.transact(
        [
            Put({**key("NEW"), "v": 1}, Condition.absent()),
            Delete(key("OLD"), Condition.present()),
            Check(key("GUARD"), Condition.attribute_is(state="open")),
            Increment(key("COUNTS"), {"open": 1}, {"entity": "counters"}),
        ]
    )
    assert table.get(key("NEW"), now=NOW) == {**key("NEW"), "v": 1}
    assert table.get(key("OLD"), now=NOW) is None
    assert table.get(key("GUARD"), now=NOW) == {**key("GUARD"), "state": "open"}
    assert table.get(key("COUNTS"), now=NOW) == {**key("COUNTS"), "entity": "counters", "open": 1}


def test_a_check_alone_reports_its_condition(table: Table) -> None:
    with pytest.raises(TransactionCancelled) as caught:
        table.transact([Check(key("GUARD"), Condition.present())])
    assert caught.value.failed == [0]
    table.put({**key("GUARD"), "state": "open"})
    table.transact([Check(key("GUARD"), Condition.attribute_is(state="open"))])
    table.transact([Check(key("GUARD"), Condition())])


def test_a_failing_check_cancels_the_other_writes(table: Table) -> None:
    with pytest.raises(TransactionCancelled) as caught:
        table.transact([Put({**key("NEW"), "v": 1}), Check(key("GUARD"), Condition.present())])
    assert caught.value.failed == [1]
    assert table.get(key("NEW"), now=NOW) is None


def test_too_many_operations_are_refused(table: Table) -> None:
    ops = [Put({**key(f"P{i}"), "v": i}) for i in range(MAX_TRANSACTION_ITEMS + 1)]
    with pytest.raises(ValueError):
        table.transact(ops)
    assert table.get(key("P0"), now=NOW) is None
    table.transact(ops[:MAX_TRANSACTION_ITEMS])
    assert table.get(key(f"P{MAX_TRANSACTION_ITEMS - 1}"), now=NOW) is not None


@pytest.mark.parametrize(
    "second",
    [
        Put({**key("A"), "v": 2}),
        Delete(key("A")),
        Check(key("A"), Condition.absent()),
        Increment(key("A"), {"n": 1}),
    ],
)
def test_two_operations_on_one_key_are_refused(table: Table, second: Any) -> None:
    with pytest.raises(ValueError):
        table.transact([Put({**key("A"), "v": 1}), second])
    assert table.get(key("A"), now=NOW) is None


def test_an_empty_transaction_does_nothing(table: Table) -> None:
    table.transact([])
    assert list(table.scan()) == []


# --- increments -----------------------------------------------------------------------------------------
def test_increment_creates_then_adds(table: Table) -> None:
    assert table.increment(key("COUNTER"), "value") == 1
    assert table.increment(key("COUNTER"), "value", 10) == 11
    assert table.increment(key("COUNTER"), "value", -5) == 6
    assert table.get(key("COUNTER"), now=NOW) == {**key("COUNTER"), "value": 6}


def test_increment_adds_a_missing_attribute_to_an_existing_item(table: Table) -> None:
    table.put({**key("C"), "entity": "counter"})
    assert table.increment(key("C"), "hits", 3) == 3
    assert table.get(key("C"), now=NOW) == {**key("C"), "entity": "counter", "hits": 3}


def test_increment_op_fills_missing_defaults_and_starts_deltas_from_them(table: Table) -> None:
    op = Increment(key("C"), {"open": 1, "total": 1}, {"entity": "counters", "total": 100})
    table.transact([op])
    assert table.get(key("C"), now=NOW) == {**key("C"), "entity": "counters", "open": 1, "total": 101}
    table.put({**key("D"), "open": 5})
    table.transact([Increment(key("D"), {"open": 1}, {"entity": "counters", "open": 100})])
    assert table.get(key("D"), now=NOW) == {**key("D"), "entity": "counters", "open": 6}
    table.transact([Increment(key("C"), {"open": 2}, {"entity": "other"})])
    assert table.get(key("C"), now=NOW) == {**key("C"), "entity": "counters", "open": 3, "total": 101}


def test_increment_cannot_touch_keys_or_index_keys(table: Table) -> None:
    for op in (Increment(key("C"), {"sk": 1}), Increment(key("C"), {"gsi1sk": 1}), Increment(key("C"), {})):
        with pytest.raises((TypeError, ValueError)):
            table.transact([op])
    assert table.get(key("C"), now=NOW) is None


def test_increment_is_atomic(table: Table, backend: str) -> None:
    if backend != "sqlite":
        # moto serialises requests itself; what it can show is that every increment counts.
        for _ in range(20):
            table.increment(key("COUNTER"), "value")
        assert table.get(key("COUNTER"), now=NOW) == {**key("COUNTER"), "value": 20}
        return
    threads, per_thread = 8, 50
    seen: list[list[int]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def bump(results: list[int]) -> None:
        barrier.wait()
        results.extend(table.increment(key("COUNTER"), "value") for _ in range(per_thread))

    workers = [threading.Thread(target=bump, args=(results,)) for results in seen]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    returned = sorted(itertools.chain.from_iterable(seen))
    assert returned == list(range(1, threads * per_thread + 1))  # every value handed out exactly once
    assert table.get(key("COUNTER"), now=NOW) == {**key("COUNTER"), "value": threads * per_thread}


# --- queries --------------------------------------------------------------------------------------------
SORT_KEYS = ["a", "ab", "abc", "b", "ba", "c", "d#1", "d#2", "e"]
SORT_CONDITIONS = [
    SortCondition(SortOp.EQ, "b"),
    SortCondition(SortOp.LT, "b"),
    SortCondition(SortOp.LE, "b"),
    SortCondition(SortOp.GT, "b"),
    SortCondition(SortOp.GE, "b"),
    SortCondition.between("ab", "c"),
    SortCondition.begins_with("a"),
    SortCondition.begins_with("d#"),
    SortCondition.begins_with("z"),
]


@pytest.mark.parametrize("sort", [None, *SORT_CONDITIONS], ids=lambda s: "all" if s is None else f"{s.op}")
@pytest.mark.parametrize("forward", [True, False], ids=["forward", "backward"])
@pytest.mark.parametrize("index", [None, *GSIS], ids=lambda i: i or "table")
def test_query_applies_the_sort_condition_in_order(
    table: Table, index: str | None, sort: SortCondition | None, forward: bool
) -> None:
    partition_attr, sort_attr = INDEXES[index]
    items = [{"pk": "P", "sk": sk, "n": n} for n, sk in enumerate(SORT_KEYS)]
    if index is not None:
        items = [{"pk": f"P{n}", "sk": "S", partition_attr: "P", sort_attr: item["sk"], "n": n}
                 for n, item in enumerate(items)]
    items.append({"pk": "OTHER", "sk": "b", **({partition_attr: "OTHER", sort_attr: "b"} if index else {})})
    put_all(table, items)
    page = table.query(Query("P", index=index, sort=sort, forward=forward), now=NOW)
    expected = [sk for sk in SORT_KEYS if sort is None or sort.matches(sk)]
    assert [item[sort_attr] for item in page.items] == (expected if forward else expected[::-1])
    assert page.last_key is None


@pytest.mark.parametrize("index", GSIS)
def test_an_item_without_both_index_keys_is_not_in_the_index(table: Table, index: str) -> None:
    partition_attr, sort_attr = INDEXES[index]
    put_all(table, [
        {**key("BOTH"), partition_attr: "G", sort_attr: "1"},
        {**key("PK_ONLY"), partition_attr: "G"},
        {**key("SK_ONLY"), sort_attr: "2"},
    ])
    assert [item["pk"] for item in table.query(Query("G", index=index), now=NOW).items] == ["BOTH"]


def test_index_ties_are_broken_by_the_table_key_and_page_exactly_once(table: Table) -> None:
    put_all(table, [{"pk": f"C{n}", "sk": "CASE", "gsi1pk": "QUEUE", "gsi1sk": "same"} for n in (3, 1, 2)])
    items, _ = walk(table, Query("QUEUE", index="gsi1", limit=1))
    assert [item["pk"] for item in items] == ["C1", "C2", "C3"]
    items, _ = walk(table, Query("QUEUE", index="gsi1", limit=2, forward=False))
    assert [item["pk"] for item in items] == ["C3", "C2", "C1"]


def test_limit_counts_examined_items_before_the_filter(table: Table) -> None:
    states = ["open", "solved", "solved", "open", "solved", "open"]
    put_all(table, [{"pk": "P", "sk": f"{n}", "state": state} for n, state in enumerate(states)])
    first = table.query(Query("P", limit=3, filter_equals=(("state", "open"),)), now=NOW)
    assert [item["sk"] for item in first.items] == ["0"]
    assert first.last_key == {"pk": "P", "sk": "2"}
    second = table.query(
        Query("P", limit=3, filter_equals=(("state", "open"),), start_after=first.last_key), now=NOW
    )
    assert [item["sk"] for item in second.items] == ["3", "5"]
    empty = table.query(Query("P", limit=2, filter_equals=(("state", "gone"),)), now=NOW)
    assert empty.items == []
    assert empty.last_key == {"pk": "P", "sk": "1"}


def test_filter_equals_on_several_attributes_and_on_none(table: Table) -> None:
    put_all(table, [
        {"pk": "P", "sk": "1", "kind": "email", "flag": True},
        {"pk": "P", "sk": "2", "kind": "email", "flag": 1},
        {"pk": "P", "sk": "3", "kind": "chat", "flag": True},
        {"pk": "P", "sk": "4", "kind": "email"},
        {"pk": "P", "sk": "5", "kind": "email", "flag": None},
    ])

    def sks(*filters: tuple[str, Any]) -> list[str]:
        return [item["sk"] for item in table.query(Query("P", filter_equals=filters), now=NOW).items]

    assert sks(("kind", "email"), ("flag", True)) == ["1"]
    assert sks(("flag", 1)) == ["2"]
    assert sks(("flag", None)) == ["4", "5"]


def test_a_filter_on_a_key_of_the_queried_index_is_refused(table: Table) -> None:
    with pytest.raises(ValueError):
        table.query(Query("P", filter_equals=(("sk", "1"),)), now=NOW)
    with pytest.raises(ValueError):
        table.query(Query("G", index="gsi1", filter_equals=(("gsi1sk", "1"),)), now=NOW)


def test_expired_items_are_invisible_but_count_toward_limit(table: Table) -> None:
    put_all(table, [
        {"pk": "P", "sk": "1"},
        {"pk": "P", "sk": "2", "expires_at": NOW},
        {"pk": "P", "sk": "3", "expires_at": NOW - 3600},
        {"pk": "P", "sk": "4", "expires_at": NOW + 1},
        {"pk": "P", "sk": "5", "gsi1pk": "G", "gsi1sk": "5", "expires_at": NOW - 1},
    ])
    assert table.get({"pk": "P", "sk": "2"}, now=NOW) is None
    assert table.get({"pk": "P", "sk": "4"}, now=NOW) == {"pk": "P", "sk": "4", "expires_at": NOW + 1}
    assert table.get({"pk": "P", "sk": "4"}, now=NOW + 1) is None
    first = table.query(Query("P", limit=2), now=NOW)
    assert [item["sk"] for item in first.items] == ["1"]
    assert first.last_key == {"pk": "P", "sk": "2"}
    items, _ = walk(table, Query("P", limit=2))
    assert [item["sk"] for item in items] == ["1", "4"]
    assert table.query(Query("G", index="gsi1"), now=NOW).items == []


def test_page_keys_resume_on_an_index(table: Table) -> None:
    put_all(table, [{"pk": f"C{n}", "sk": "CASE", "gsi2pk": "Q", "gsi2sk": f"{n:02d}"} for n in range(5)])
    page = table.query(Query("Q", index="gsi2", limit=2), now=NOW)
    assert page.last_key == {"pk": "C1", "sk": "CASE", "gsi2pk": "Q", "gsi2sk": "01"}
    assert page.last_key == page_key(page.items[-1], "gsi2")
    rest = table.query(Query("Q", index="gsi2", start_after=page.last_key), now=NOW)
    assert [item["pk"] for item in rest.items] == ["C2", "C3", "C4"]
    assert rest.last_key is None


def test_a_start_key_that_matches_no_item_still_positions_the_page(table: Table) -> None:
    put_all(table, [{"pk": "P", "sk": sk} for sk in ("a", "c", "e")])
    page = table.query(Query("P", start_after={"pk": "P", "sk": "b"}), now=NOW)
    assert [item["sk"] for item in page.items] == ["c", "e"]
    page = table.query(Query("P", start_after={"pk": "P", "sk": "d"}, forward=False), now=NOW)
    assert [item["sk"] for item in page.items] == ["c", "a"]


def test_query_and_start_key_validation(table: Table) -> None:
    with pytest.raises(ValueError):
        Query("P", index="gsi9")
    with pytest.raises(ValueError):
        Query("P", limit=0)
    with pytest.raises(ValueError):
        table.query(Query("P", index="gsi1", start_after={"pk": "P", "sk": "S"}), now=NOW)
    with pytest.raises(ValueError):
        table.query(Query("P", sort=SortCondition.between("b", "a")), now=NOW)


_partitions = itertools.count()
_items = st.lists(
    st.tuples(
        st.text(alphabet="ab#", min_size=1, max_size=3),  # table sort key
        st.sampled_from(["x", "y", "xy", "z"]),  # index sort key: many ties on purpose
        st.sampled_from(["open", "solved"]),
        st.booleans(),  # expired
    ),
    max_size=25,
    unique_by=lambda t: t[0],
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=_items,
    limit=st.one_of(st.none(), st.integers(1, 7)),
    forward=st.booleans(),
    index=st.sampled_from([None, "gsi3"]),
    only_open=st.booleans(),
    sort=st.sampled_from([None, SortCondition.begins_with("a"), SortCondition(SortOp.GE, "b")]),
)
def test_paging_walks_every_visible_item_exactly_once_in_order(
    table: Table,
    rows: list[tuple[str, str, str, bool]],
    limit: int | None,
    forward: bool,
    index: str | None,
    only_open: bool,
    sort: SortCondition | None,
) -> None:
    partition = f"H{next(_partitions)}"
    items = [
        {
            "pk": partition if index is None else f"{partition}-{sk}",
            "sk": sk if index is None else "S",
            "gsi3pk": partition,
            "gsi3sk": index_sk if index else sk,
            "state": state,
            **({"expires_at": NOW - 1} if expired else {}),
        }
        for sk, index_sk, state, expired in rows
    ]
    put_all(table, items)
    sort_attr = INDEXES[index][1]
    query = Query(
        partition, index=index, limit=limit, forward=forward, sort=sort,
        filter_equals=(("state", "open"),) if only_open else (),
    )
    walked, sizes = walk(table, query)
    order = sorted(
        (item for item in items if sort is None or sort.matches(item[sort_attr])),
        key=lambda item: (item[sort_attr], item["pk"], item["sk"]),
        reverse=not forward,
    )
    expected = [
        item for item in order
        if "expires_at" not in item and (not only_open or item["state"] == "open")
    ]
    assert walked == expected
    if limit is not None:
        assert all(size <= limit for size in sizes)


# --- scan -----------------------------------------------------------------------------------------------
def test_scan_returns_every_stored_item_once(table: Table) -> None:
    count = 600  # more than one of the SQLite adapter's scan chunks
    items = [{"pk": f"P{n % 37}", "sk": f"S{n}", "n": n} for n in range(count)]
    put_all(table, items)
    table.delete({"pk": "P0", "sk": "S0"})
    scanned = list(table.scan())
    assert len(scanned) == count - 1
    assert sorted(item["n"] for item in scanned) == list(range(1, count))


# --- request counts (AWS only: what a read costs) -------------------------------------------------------
@pytest.mark.aws
def test_each_call_is_one_request(dynamodb_client: Any) -> None:
    create_table(dynamodb_client, "caseline-requests")
    table = DynamoDbTable("caseline-requests", client=dynamodb_client)
    table.put({**key("A"), "v": 1})
    with count_dynamodb_calls(dynamodb_client) as calls:
        table.get(key("A"), now=NOW)
        table.query(Query("A", limit=5), now=NOW)
        table.query(Query("G", index="gsi1", filter_equals=(("v", 1),)), now=NOW)
        table.put({**key("B"), "v": 1}, Condition.absent())
        table.delete(key("B"))
        table.transact([Increment(key("C"), {"n": 1})])
        table.increment(key("C"), "n")
        table.transact([Put({**key("D")}), Check(key("A"), Condition.present())])
    assert calls == [
        "GetItem", "Query", "Query", "PutItem", "DeleteItem", "UpdateItem", "UpdateItem", "TransactWriteItems"
    ]
    table.get(key("A"), now=NOW)
    assert len(calls) == 8  # the hook is gone once the block ends
