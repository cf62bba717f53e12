"""The table port on SQLite: the same items, key conditions, transactions and TTL as DynamoDB, on one file.

Items live whole as JSON in one `items` row keyed (pk, sk); the index keys and `expires_at` are copied
into columns so each GSI is a partial SQL index in DynamoDB's order (index sort key, then the table key,
which is also how moto breaks ties). A GSI column is set only when the item has both of the index's
keys, because DynamoDB leaves such items out of the index.

The `stream` table plays DynamoDB Streams for the embedded outbox dispatcher: a write to an item that
`stream_filter` accepts appends an INSERT/MODIFY/REMOVE record in the same SQLite transaction, so an
event is recorded exactly when its write commits. Like DynamoDB, a write that changes nothing records
nothing, and removing an expired item (`purge_expired`, the TTL sweep) records a REMOVE.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...ports.table import (
    INDEXES,
    TTL_ATTRIBUTE,
    Check,
    Condition,
    Delete,
    Increment,
    Item,
    Key,
    Page,
    Put,
    Query,
    SortCondition,
    SortOp,
    Table,
    TransactionCancelled,
    WriteOp,
    is_expired,
    page_key,
)
from ..table_rules import check_increment, check_item, check_key, check_ops, check_query, op_key
from .sqlite_db import SqliteDatabase

PAGE_BYTES = 1024 * 1024  # a query page ends after about 1 MB of items, as DynamoDB's does
SCAN_CHUNK = 500
_GSIS = [(pk, sk) for name, (pk, sk) in INDEXES.items() if name is not None]
_COLUMNS = ["pk", "sk", *(col for gsi in _GSIS for col in gsi), TTL_ATTRIBUTE, "item"]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS items ("
    " pk TEXT NOT NULL, sk TEXT NOT NULL,"
    + "".join(f" {pk} TEXT, {sk} TEXT," for pk, sk in _GSIS)
    + f" {TTL_ATTRIBUTE} INTEGER, item TEXT NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID",
    *(
        f"CREATE INDEX IF NOT EXISTS items_{name} ON items ({pk}, {sk}, pk, sk) WHERE {pk} IS NOT NULL"
        for name, (pk, sk) in INDEXES.items()
        if name is not None
    ),
    f"CREATE INDEX IF NOT EXISTS items_expiry ON items ({TTL_ATTRIBUTE}) WHERE {TTL_ATTRIBUTE} IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS stream ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, event_name TEXT NOT NULL, pk TEXT NOT NULL, sk TEXT NOT NULL,"
    " new_image TEXT, old_image TEXT)",
    "CREATE TABLE IF NOT EXISTS stream_checkpoints (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
    " WITHOUT ROWID",
)
_UPSERT = (
    f"INSERT OR REPLACE INTO items ({', '.join(_COLUMNS)})"  # noqa: S608 - fixed column names
    f" VALUES ({', '.join('?' * len(_COLUMNS))})"
)
_SELECT_ITEM = "SELECT item FROM items WHERE pk = ? AND sk = ?"


@dataclass(frozen=True)
class StreamRecord:
    seq: int
    event_name: str  # INSERT, MODIFY or REMOVE, as in DynamoDB Streams
    keys: Key
    new_image: Item | None
    old_image: Item | None


@dataclass(frozen=True)
class _Stored:
    """An item read inside a write transaction; its JSON `raw` tells whether a write changed it."""

    raw: str
    item: Item


class SqliteTable(Table):
    """`stream_filter` picks the items whose writes go to the stream; None (the default) streams nothing."""

    def __init__(self, path: str | Path, *, stream_filter: Callable[[Item], bool] | None = None) -> None:
        self._setup(SqliteDatabase(path, schema=SCHEMA), stream_filter)

    @classmethod
    def memory(cls, *, stream_filter: Callable[[Item], bool] | None = None) -> SqliteTable:
        """A throwaway table for tests, in a temporary file so that threads share it as in production."""
        table = cls.__new__(cls)
        table._setup(SqliteDatabase.temporary(schema=SCHEMA), stream_filter)
        return table

    def _setup(self, db: SqliteDatabase, stream_filter: Callable[[Item], bool] | None) -> None:
        self._db = db
        self._stream_filter = stream_filter

    @property
    def path(self) -> Path:
        return self._db.path

    def close(self) -> None:
        self._db.close()

    def defer_checkpoints(self) -> None:
        """Leave WAL checkpoints to `checkpoint_wal()` (see `SqliteDatabase.defer_checkpoints`)."""
        self._db.defer_checkpoints()

    def checkpoint_wal(self) -> tuple[int, int, int]:
        return self._db.checkpoint()

    def __enter__(self) -> SqliteTable:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- reads ------------------------------------------------------------------------------------------
    def get(self, key: Key, *, now: int) -> Item | None:
        check_key(key)
        with self._db.read() as conn:
            row = conn.execute(_SELECT_ITEM, (key["pk"], key["sk"])).fetchone()
        if row is None:
            return None
        item = json.loads(row[0])
        return None if is_expired(item, now) else item

    def query(self, query: Query, *, now: int) -> Page:
        check_query(query)
        sql, params = _select(query)
        wanted = Condition(equals=query.filter_equals)
        items: list[Item] = []
        examined = size = 0
        last: Item | None = None
        last_key: Key | None = None
        with self._db.read() as conn:
            cursor = conn.execute(sql, params)
            try:
                for (raw,) in cursor:
                    if last is not None and (examined == query.limit or size >= PAGE_BYTES):
                        last_key = page_key(last, query.index)  # a further item exists
                        break
                    last = json.loads(raw)
                    examined += 1
                    size += len(raw)
                    if not is_expired(last, now) and wanted.holds_for(last):
                        items.append(last)
            finally:
                cursor.close()
        return Page(items, last_key)

    def scan(self) -> Iterator[Item]:
        """Every stored item in key order, read in chunks so no read stays open while the caller works."""
        after = ("", "")
        while True:
            with self._db.read() as conn:
                rows = conn.execute(
                    "SELECT pk, sk, item FROM items WHERE (pk, sk) > (?, ?) ORDER BY pk, sk LIMIT ?",
                    (*after, SCAN_CHUNK),
                ).fetchall()
            for _, _, raw in rows:
                yield json.loads(raw)
            if len(rows) < SCAN_CHUNK:
                return
            after = (rows[-1][0], rows[-1][1])

    # --- writes -----------------------------------------------------------------------------------------
    def transact(self, ops: Sequence[WriteOp]) -> None:
        check_ops(ops)
        if not ops:
            return
        with self._db.write() as conn:
            stored = [self._load(conn, op_key(op)) for op in ops]
            failed = [
                index
                for index, (op, current) in enumerate(zip(ops, stored, strict=True))
                if not isinstance(op, Increment)
                and op.condition is not None
                and not op.condition.holds_for(current.item if current else None)
            ]
            if failed:
                raise TransactionCancelled(failed)
            for op, current in zip(ops, stored, strict=True):
                self._apply(conn, op, current)

    def increment(self, key: Key, attribute: str, by: int = 1) -> int:
        op = Increment(key, {attribute: by})
        check_key(key)
        check_increment(op)
        with self._db.write() as conn:
            item = self._apply(conn, op, self._load(conn, key))
        assert item is not None
        return int(item[attribute])

    def purge_expired(self, now: int) -> int:
        """Delete items whose `expires_at` has passed, as DynamoDB's TTL sweep does; returns how many."""
        with self._db.write() as conn:
            if self._stream_filter is None:
                return conn.execute(f"DELETE FROM items WHERE {TTL_ATTRIBUTE} <= ?", (now,)).rowcount  # noqa: S608
            rows = conn.execute(
                f"SELECT pk, sk, item FROM items WHERE {TTL_ATTRIBUTE} <= ?", (now,)  # noqa: S608
            ).fetchall()
            for pk, sk, raw in rows:
                conn.execute("DELETE FROM items WHERE pk = ? AND sk = ?", (pk, sk))
                self._record(conn, _Stored(raw, json.loads(raw)), None)
            return len(rows)

    def _load(self, conn: sqlite3.Connection, key: Key) -> _Stored | None:
        row = conn.execute(_SELECT_ITEM, (key["pk"], key["sk"])).fetchone()
        return None if row is None else _Stored(row[0], json.loads(row[0]))

    def _apply(self, conn: sqlite3.Connection, op: WriteOp, current: _Stored | None) -> Item | None:
        """Write one operation whose condition held; returns the item as it now is."""
        if isinstance(op, Check):
            return current.item if current else None
        if isinstance(op, Delete):
            if current is not None:
                conn.execute("DELETE FROM items WHERE pk = ? AND sk = ?", (op.key["pk"], op.key["sk"]))
                self._record(conn, current, None)
            return None
        item = op.item if isinstance(op, Put) else _incremented(current.item if current else None, op)
        new = _Stored(_dump(item), item)
        if current is None or current.raw != new.raw:
            conn.execute(_UPSERT, _row(item, new.raw))
            self._record(conn, current, new)
        return item

    # --- stream -----------------------------------------------------------------------------------------
    def _record(self, conn: sqlite3.Connection, old: _Stored | None, new: _Stored | None) -> None:
        if self._stream_filter is None:
            return
        if not any(self._stream_filter(image.item) for image in (new, old) if image is not None):
            return
        image = new or old
        assert image is not None
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        conn.execute(
            "INSERT INTO stream (event_name, pk, sk, new_image, old_image) VALUES (?, ?, ?, ?, ?)",
            (event, image.item["pk"], image.item["sk"], new.raw if new else None, old.raw if old else None),
        )

    def read_stream(self, after_seq: int, limit: int) -> list[StreamRecord]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT seq, event_name, pk, sk, new_image, old_image FROM stream"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [
            StreamRecord(seq, event, {"pk": pk, "sk": sk}, _load_json(new), _load_json(old))
            for seq, event, pk, sk, new, old in rows
        ]

    def advance_stream(self, name: str, seq: int) -> None:
        """A reader moving past a batch, in one write: its checkpoint is stored and the records up to and
        including `seq` are forgotten (sequence numbers are never reused)."""
        with self._db.write() as conn:
            _set_checkpoint(conn, name, seq)
            conn.execute("DELETE FROM stream WHERE seq <= ?", (seq,))


    def stream_pending(self, name: str) -> int:
        """How many stream records the reader `name` has not handled yet (its backlog)."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM stream WHERE seq > coalesce("
                "(SELECT seq FROM stream_checkpoints WHERE name = ?), 0)", (name,)).fetchone()
        return int(row[0])

    def checkpoint(self, name: str) -> int:
        """The last sequence number the reader `name` has handled, 0 before its first."""
        with self._db.read() as conn:
            row = conn.execute("SELECT seq FROM stream_checkpoints WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_checkpoint(self, name: str, seq: int) -> None:
        with self._db.write() as conn:
            _set_checkpoint(conn, name, seq)


def _set_checkpoint(conn: sqlite3.Connection, name: str, seq: int) -> None:
    conn.execute(
        "INSERT INTO stream_checkpoints (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
        (name, seq),
    )


def _select(query: Query) -> tuple[str, list[Any]]:
    """SQL walking one index partition in DynamoDB's order. Column names come from INDEXES, not callers."""
    partition_attr, sort_attr = INDEXES[query.index]
    order = [sort_attr] if query.index is None else [sort_attr, "pk", "sk"]
    clauses = [f"{partition_attr} = ?"]
    params: list[Any] = [query.partition]
    if query.sort is not None:
        clause, values = _sort_clause(sort_attr, query.sort)
        clauses.append(clause)
        params.extend(values)
    if query.start_after is not None:
        compare = ">" if query.forward else "<"
        clauses.append(f"({', '.join(order)}) {compare} ({', '.join('?' * len(order))})")
        params.extend(query.start_after[column] for column in order)
    direction = "ASC" if query.forward else "DESC"
    sql = (
        f"SELECT item FROM items WHERE {' AND '.join(clauses)}"  # noqa: S608
        f" ORDER BY {', '.join(f'{column} {direction}' for column in order)}"
    )
    return sql, params


def _sort_clause(column: str, sort: SortCondition) -> tuple[str, list[str]]:
    match sort.op:
        case SortOp.BETWEEN:
            return f"{column} BETWEEN ? AND ?", [sort.value, sort.upper or ""]
        case SortOp.BEGINS_WITH:
            upper = _prefix_upper_bound(sort.value)
            if upper is None:
                return f"{column} >= ?", [sort.value]
            return f"{column} >= ? AND {column} < ?", [sort.value, upper]
        case _:
            return f"{column} {sort.op.value} ?", [sort.value]


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string above every string starting with `prefix`, so begins_with is an index range.

    SQLite compares TEXT as UTF-8 bytes, which orders like code points; surrogates cannot be stored.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def _incremented(current: Item | None, op: Increment) -> Item:
    item = dict(current) if current is not None else dict(op.key)
    for name, value in op.defaults.items():
        item.setdefault(name, value)
    for name, delta in op.deltas.items():
        value = item.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} holds {value!r}, which cannot be incremented")
        item[name] = value + delta
    check_item(item)
    return item


def _row(item: Item, raw: str) -> tuple[Any, ...]:
    gsi_values: list[str | None] = []
    for pk, sk in _GSIS:
        indexed = pk in item and sk in item
        gsi_values += [item[pk], item[sk]] if indexed else [None, None]
    return (item["pk"], item["sk"], *gsi_values, item.get(TTL_ATTRIBUTE), raw)


def _dump(item: Item) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _load_json(raw: str | None) -> Item | None:
    return None if raw is None else json.loads(raw)
