"""Powertools idempotency records in SQLite, for handlers running on one machine.

A line-by-line twin of Powertools' `DynamoDBPersistenceLayer`: the same record fields, the same rule for
when a new call may take over a key (no record, the record expired, or an INPROGRESS record whose
`in_progress_expiry` passed), the same stored-record hand-back on a clash, so `@idempotent` behaves the
same locally as in Lambda. `tests/contract/test_idempotency_contract.py` runs both through one suite.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord

from .sqlite_db import SqliteDatabase

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS idempotency ("
    " id TEXT PRIMARY KEY, status TEXT NOT NULL, expiration INTEGER NOT NULL,"
    " in_progress_expiration INTEGER, data TEXT, validation TEXT) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expiration)",
)
_COLUMNS = "id, status, expiration, in_progress_expiration, data, validation"
_SELECT = f"SELECT {_COLUMNS} FROM idempotency WHERE id = ?"  # noqa: S608 - fixed column names


class SqliteIdempotencyPersistence(BasePersistenceLayer):
    def __init__(self, path: str | Path | None = None, *, database: SqliteDatabase | None = None) -> None:
        """Open `path`, or share an open `database` (the local runtime keeps one file for everything)."""
        if (path is None) == (database is None):
            raise ValueError("give exactly one of path or database")
        if database is None:
            database = SqliteDatabase(path, schema=SCHEMA)  # type: ignore[arg-type]  # path is set
        else:
            with database.write() as conn:
                for statement in SCHEMA:
                    conn.execute(statement)
        self._db = database
        super().__init__()

    @classmethod
    def memory(cls) -> SqliteIdempotencyPersistence:
        return cls(database=SqliteDatabase.temporary(schema=SCHEMA))

    def close(self) -> None:
        self._db.close()

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._db.read() as conn:
            row = conn.execute(_SELECT, (idempotency_key,)).fetchone()
        if row is None:
            raise IdempotencyItemNotFoundError
        return _record(row)

    def _put_record(self, data_record: DataRecord) -> None:
        now = dt.datetime.now()
        now_seconds, now_millis = int(now.timestamp()), int(now.timestamp() * 1000)
        with self._db.write() as conn:
            row = conn.execute(_SELECT, (data_record.idempotency_key,)).fetchone()
            if row is not None and not _may_take_over(row, now_seconds, now_millis):
                existing = _record(row)
                # As the DynamoDB layer does with ReturnValuesOnConditionCheckFailure: a payload that does
                # not match fails validation here, and the stored record spares the caller a second read.
                self._validate_payload(data_payload=data_record, stored_data_record=existing)
                self._save_to_cache(data_record=existing)
                raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
            validation = data_record.payload_hash if self.payload_validation_enabled else None
            conn.execute(
                f"INSERT OR REPLACE INTO idempotency ({_COLUMNS}) VALUES (?, ?, ?, ?, NULL, ?)",  # noqa: S608
                (
                    data_record.idempotency_key,
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.in_progress_expiry_timestamp,
                    validation or None,
                ),
            )

    def _update_record(self, data_record: DataRecord) -> None:
        # An upsert, like DynamoDB's UpdateItem: the validation hash is written only when validation is on.
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO idempotency (id, status, expiration, data, validation) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET status = excluded.status, expiration = excluded.expiration,"
                " data = excluded.data, validation = coalesce(excluded.validation, idempotency.validation)",
                (
                    data_record.idempotency_key,
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.response_data,
                    data_record.payload_hash if self.payload_validation_enabled else None,
                ),
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM idempotency WHERE id = ?", (data_record.idempotency_key,))

    def purge_expired(self, now: int) -> int:
        """Drop records whose expiry passed (DynamoDB's TTL does this in AWS); returns how many."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM idempotency WHERE expiration < ?", (now,)).rowcount


def _may_take_over(row: tuple, now_seconds: int, now_millis: int) -> bool:
    """DynamoDBPersistenceLayer's put condition, minus attribute_not_exists (the caller found a row)."""
    _, status, expiration, in_progress_expiration, _, _ = row
    if expiration < now_seconds:
        return True
    return (
        status == STATUS_CONSTANTS["INPROGRESS"]
        and in_progress_expiration is not None
        and in_progress_expiration < now_millis
    )


def _record(row: tuple) -> DataRecord:
    key, status, expiration, in_progress_expiration, data, validation = row
    return DataRecord(
        idempotency_key=key,
        status=status,
        expiry_timestamp=expiration,
        in_progress_expiry_timestamp=in_progress_expiration,
        response_data=data,
        payload_hash=validation,
    )
