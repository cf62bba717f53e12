"""What only the embedded table has: its stream (the local DynamoDB Streams), TTL purge, files and threads."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from caseline.adapters.embedded import sqlite_db
from caseline.adapters.embedded.sqlite_table import SqliteTable, StreamRecord
from caseline.ports.table import (
    Check,
    Condition,
    ConditionFailed,
    Delete,
    Increment,
    Item,
    Put,
    Query,
    TransactionCancelled,
)

NOW = 1_700_000_000


def is_outbox(item: Item) -> bool:
    return str(item["pk"]).startswith("OUTBOX#")


def events(records: list[StreamRecord]) -> list[tuple[str, str]]:
    return [(record.event_name, record.keys["pk"]) for record in records]


@pytest.fixture
def table() -> SqliteTable:
    with SqliteTable.memory(stream_filter=is_outbox) as opened:
        yield opened


def test_stream_records_filtered_writes_in_order_with_their_images(table: SqliteTable) -> None:
    event = {"pk": "OUTBOX#1", "sk": "EVENT", "type": "caseline.case.opened"}
    table.put(event)
    table.put({"pk": "CASE#1", "sk": "CASE", "v": 1})  # not an outbox item: no record
    table.put({**event, "type": "caseline.case.solved"})
    table.put({**event, "type": "caseline.case.solved"})  # changes nothing: no record
    table.transact([Increment({"pk": "OUTBOX#2", "sk": "EVENT"}, {"n": 1})])
    table.delete({"pk": "OUTBOX#1", "sk": "EVENT"})
    table.delete({"pk": "OUTBOX#9", "sk": "EVENT"})  # nothing to delete: no record

    records = table.read_stream(0, 100)
    assert events(records) == [
        ("INSERT", "OUTBOX#1"), ("MODIFY", "OUTBOX#1"), ("INSERT", "OUTBOX#2"), ("REMOVE", "OUTBOX#1")
    ]
    assert [r.seq for r in records] == sorted(r.seq for r in records)
    insert, modify, increment, remove = records
    assert (insert.old_image, insert.new_image) == (None, event)
    assert modify.old_image == event and modify.new_image == {**event, "type": "caseline.case.solved"}
    assert increment.new_image == {"pk": "OUTBOX#2", "sk": "EVENT", "n": 1}
    assert remove.keys == {"pk": "OUTBOX#1", "sk": "EVENT"}
    assert (remove.old_image, remove.new_image) == ({**event, "type": "caseline.case.solved"}, None)


def test_a_transaction_records_its_writes_together_or_not_at_all(table: SqliteTable) -> None:
    table.transact([
        Put({"pk": "CASE#1", "sk": "CASE", "version": 1}),
        Put({"pk": "OUTBOX#a", "sk": "EVENT"}),
        Put({"pk": "OUTBOX#b", "sk": "EVENT"}),
    ])
    with pytest.raises(TransactionCancelled):
        table.transact([
            Put({"pk": "OUTBOX#c", "sk": "EVENT"}),
            Put({"pk": "CASE#1", "sk": "CASE", "version": 2}, Condition.attribute_is(version=7)),
        ])
    table.transact([Check({"pk": "OUTBOX#a", "sk": "EVENT"}, Condition.present())])
    assert events(table.read_stream(0, 100)) == [("INSERT", "OUTBOX#a"), ("INSERT", "OUTBOX#b")]


def test_an_item_leaving_the_filter_is_still_recorded(table: SqliteTable) -> None:
    streamed = SqliteTable.memory(stream_filter=lambda item: item.get("state") == "open")
    streamed.put({"pk": "A", "sk": "S", "state": "open"})
    streamed.put({"pk": "A", "sk": "S", "state": "closed"})
    streamed.put({"pk": "A", "sk": "S", "state": "archived"})
    assert [r.event_name for r in streamed.read_stream(0, 10)] == ["INSERT", "MODIFY"]
    streamed.close()


def test_no_filter_means_no_stream() -> None:
    with SqliteTable.memory() as plain:
        plain.put({"pk": "OUTBOX#1", "sk": "EVENT"})
        assert plain.read_stream(0, 10) == []


def test_read_stream_pages_by_sequence(table: SqliteTable) -> None:
    for n in range(5):
        table.put({"pk": f"OUTBOX#{n}", "sk": "EVENT"})
    first = table.read_stream(0, 2)
    rest = table.read_stream(first[-1].seq, 10)
    assert [r.keys["pk"] for r in first + rest] == [f"OUTBOX#{n}" for n in range(5)]
    assert table.read_stream(rest[-1].seq, 10) == []


def test_trim_forgets_records_and_never_reuses_a_sequence_number(tmp_path: Path) -> None:
    path = tmp_path / "caseline.db"
    with SqliteTable(path, stream_filter=is_outbox) as table:
        for n in range(3):
            table.put({"pk": f"OUTBOX#{n}", "sk": "EVENT"})
        records = table.read_stream(0, 10)
        table.advance_stream("dispatcher", records[1].seq)
        assert [r.keys["pk"] for r in table.read_stream(0, 10)] == ["OUTBOX#2"]
        table.advance_stream("dispatcher", records[2].seq)
        assert table.read_stream(0, 10) == []
    with SqliteTable(path, stream_filter=is_outbox) as reopened:
        reopened.put({"pk": "OUTBOX#3", "sk": "EVENT"})
        (latest,) = reopened.read_stream(0, 10)
        assert latest.seq > records[2].seq


def test_advancing_a_reader_stores_its_checkpoint_and_forgets_what_it_passed_in_one_write(table: SqliteTable) -> None:
    for n in range(4):
        table.put({"pk": f"OUTBOX#{n}", "sk": "EVENT"})
    records = table.read_stream(0, 10)
    table.advance_stream("dispatcher", records[2].seq)
    assert table.checkpoint("dispatcher") == records[2].seq
    assert [r.keys["pk"] for r in table.read_stream(0, 10)] == ["OUTBOX#3"]
    assert table.stream_pending("dispatcher") == 1

def test_stream_and_checkpoints_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "caseline.db"
    with SqliteTable(path, stream_filter=is_outbox) as table:
        assert table.checkpoint("dispatcher") == 0
        for n in range(3):
            table.put({"pk": f"OUTBOX#{n}", "sk": "EVENT", "gsi1pk": "EVENTS", "gsi1sk": f"{n}"})
        handled = table.read_stream(0, 1)[0]
        table.set_checkpoint("dispatcher", handled.seq)
    with SqliteTable(path, stream_filter=is_outbox) as reopened:
        after = reopened.checkpoint("dispatcher")
        assert after == handled.seq
        assert reopened.checkpoint("someone-else") == 0
        assert [r.keys["pk"] for r in reopened.read_stream(after, 10)] == ["OUTBOX#1", "OUTBOX#2"]
        assert len(reopened.query(Query("EVENTS", index="gsi1"), now=NOW).items) == 3


def test_purge_expired_removes_what_ttl_would_and_streams_the_removal(table: SqliteTable) -> None:
    table.put({"pk": "OUTBOX#old", "sk": "EVENT", "expires_at": NOW - 1})
    table.put({"pk": "OUTBOX#edge", "sk": "EVENT", "expires_at": NOW})
    table.put({"pk": "OUTBOX#new", "sk": "EVENT", "expires_at": NOW + 1})
    table.put({"pk": "DONE#x", "sk": "DONE", "expires_at": NOW - 1})
    table.put({"pk": "CASE#1", "sk": "CASE"})
    seen = table.read_stream(0, 100)[-1].seq

    assert table.purge_expired(NOW) == 3
    assert table.purge_expired(NOW) == 0
    assert sorted(item["pk"] for item in table.scan()) == ["CASE#1", "OUTBOX#new"]
    removed = table.read_stream(seen, 100)
    assert sorted(events(removed)) == [("REMOVE", "OUTBOX#edge"), ("REMOVE", "OUTBOX#old")]
    assert all(r.old_image is not None and r.new_image is None for r in removed)


def test_a_purged_item_no_longer_blocks_a_conditional_put(table: SqliteTable) -> None:
    marker = {"pk": "DONE#c#e", "sk": "DONE", "expires_at": NOW - 1}
    table.put(marker)
    with pytest.raises(ConditionFailed):
        table.put({**marker, "expires_at": NOW + 60}, Condition.absent())
    table.purge_expired(NOW)
    table.put({**marker, "expires_at": NOW + 60}, Condition.absent())


def test_purge_without_a_stream() -> None:
    with SqliteTable.memory() as plain:
        plain.put({"pk": "A", "sk": "S", "expires_at": NOW - 1})
        plain.put({"pk": "B", "sk": "S"})
        assert plain.purge_expired(NOW) == 1
        assert [item["pk"] for item in plain.scan()] == ["B"]


def test_memory_tables_are_separate_and_cleaned_up() -> None:
    first, second = SqliteTable.memory(), SqliteTable.memory()
    first.put({"pk": "A", "sk": "S"})
    assert second.get({"pk": "A", "sk": "S"}, now=NOW) is None
    directory = first.path.parent
    first.close()
    second.close()
    assert not directory.exists()


def test_exactly_one_of_many_racing_conditional_puts_wins(table: SqliteTable) -> None:
    claim_key = {"pk": "IDENT#email#a@example.com", "sk": "IDENT"}
    winners: list[int] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait()
        try:
            table.put({**claim_key, "owner_id": f"c{n}"}, Condition.absent())
        except ConditionFailed:
            return
        winners.append(n)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert table.get(claim_key, now=NOW) == {**claim_key, "owner_id": f"c{winners[0]}"}


def test_readers_in_other_threads_never_see_half_a_transaction(table: SqliteTable) -> None:
    stop = threading.Event()
    torn: list[list[Item]] = []

    def write() -> None:
        for version in range(1, 200):
            table.transact([
                Put({"pk": "CASE#1", "sk": "A", "version": version}),
                Put({"pk": "CASE#1", "sk": "B", "version": version}),
                Delete({"pk": "CASE#1", "sk": f"C{version - 1}"}),
                Put({"pk": "CASE#1", "sk": f"C{version}", "version": version}),
            ])
        stop.set()

    def read() -> None:
        while not stop.is_set():
            items = table.query(Query("CASE#1"), now=NOW).items
            if items and (len(items) != 3 or len({item["version"] for item in items}) != 1):
                torn.append(items)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert torn == []


def test_a_closed_table_refuses_work() -> None:
    table = SqliteTable.memory()
    table.close()
    with pytest.raises(Exception, match="closed"):
        table.get({"pk": "A", "sk": "S"}, now=NOW)


def _count_up(path: str, times: int) -> None:
    """A writer in a process of its own (spawned: a fresh interpreter, as `caseline dev --workers` starts)."""
    with SqliteTable(path) as table:
        for _ in range(times):
            table.increment({"pk": "COUNTER", "sk": "C"}, "n")


def test_writers_in_separate_processes_take_turns_and_lose_no_write(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "shared.sqlite3"
    SqliteTable(path).close()
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_count_up, args=(str(path), 150)) for _ in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert [writer.exitcode for writer in writers] == [0, 0, 0]
    with SqliteTable(path) as table:
        assert table.get({"pk": "COUNTER", "sk": "C"}, now=NOW)["n"] == 450


def test_deferred_checkpoints_leave_the_wal_to_checkpoint_wal(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite3"
    wal = Path(f"{path}-wal")
    with SqliteTable(path) as table:
        table.defer_checkpoints()
        for n in range(1_200):  # a page each, past the 1,000 pages at which a commit would checkpoint
            table.put({"pk": f"ITEM#{n:05d}", "sk": "A", "body": "x" * 3_000})
        assert wal.stat().st_size > 1_000 * 4_096
        busy, pages, done = table.checkpoint_wal()
        assert busy == 0 and pages > 1_000 and done == pages
        table.put({"pk": "ITEM#LAST", "sk": "A"})
    with SqliteTable(path) as reopened:
        assert reopened.get({"pk": "ITEM#00600", "sk": "A"}, now=NOW)["body"] == "x" * 3_000
        assert reopened.get({"pk": "ITEM#LAST", "sk": "A"}, now=NOW) is not None


class _WriteDuringCopy:
    """The checkpointer's connection, with another process's write landing while its PASSIVE copy runs: what
    steady writes do to every checkpoint, made deterministic."""

    def __init__(self, path: Path, write: Callable[[], None]) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.write = write

    def execute(self, sql: str) -> sqlite3.Cursor:
        if "PASSIVE" not in sql:
            return self.connection.execute(sql)
        # A reader that started before the write keeps the copy from going past what it sees, as a copy that
        # began before the write would have stopped there.
        self.reader.execute("BEGIN")
        self.reader.execute("SELECT count(*) FROM items").fetchone()
        self.write()
        result = self.connection.execute(sql).fetchone()
        self.reader.execute("COMMIT")
        return self.connection.execute("SELECT ?, ?, ?", result)

    def close(self) -> None:
        self.reader.close()
        self.connection.close()


@pytest.mark.parametrize("restart_after", [64, None])
def test_the_checkpointer_starts_the_wal_over_though_writes_land_during_its_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restart_after: int | None) -> None:
    monkeypatch.setattr(sqlite_db, "RESTART_AFTER_FRAMES", restart_after or 10**9)
    path = tmp_path / "busy.sqlite3"
    with SqliteTable(path) as table, SqliteTable(path) as other_process:
        table.defer_checkpoints()
        other_process.defer_checkpoints()
        landed = iter(range(1_000))
        table._db._checkpointer = _WriteDuringCopy(  # the checkpointer's own connection
            path, lambda: other_process.put({"pk": f"OTHER#{next(landed)}", "sk": "A"}))
        for round_ in range(5):
            for n in range(50):
                table.put({"pk": f"ITEM#{round_}-{n:03d}", "sk": "A", "body": "x" * 3_000})
            table.checkpoint_wal()
        table.put({"pk": "ITEM#LAST", "sk": "A"})
        frames = sqlite3.connect(path).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    if restart_after is None:  # PASSIVE alone: a write always arrives during the copy, the WAL only grows
        assert frames > 5 * 50
    else:
        assert frames < 20  # started over after the last round: the last write, not five rounds of them


def test_stream_pending_counts_what_a_reader_has_not_handled(table: SqliteTable) -> None:
    for n in range(3):
        table.put({"pk": f"OUTBOX#{n}", "sk": "EVENT"})
    table.put({"pk": "CASE#1", "sk": "CASE"})  # not streamed
    assert table.stream_pending("dispatcher") == 3
    records = table.read_stream(0, 10)
    table.set_checkpoint("dispatcher", records[1].seq)
    assert table.stream_pending("dispatcher") == 1
    assert table.stream_pending("another reader") == 3
