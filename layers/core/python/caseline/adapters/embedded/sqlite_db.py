"""One SQLite file for the embedded adapters, shared safely by the local gateway's thread pool.

One connection per database object, behind a lock. We measured the alternative, a connection per
thread (threading.local) so that WAL readers run in parallel: on the local gateway's mix of point reads,
25-item queries and 10% writes it was no faster at 1 thread and up to 20% slower at 4-8 threads, because
the work is mostly Python (JSON, validation) under the GIL and every extra connection has a cold page
cache. The lock also means a read never waits in SQLite's busy handler, which sleeps in steps of up to
100 ms.

Writers queue without that sleep across processes too (`caseline dev --workers N` runs the gateway in
several processes on one file): a write transaction first takes this process's per-file lock, then an
exclusive `flock` on `<file>.write-lock`, which the kernel hands to the next waiter the moment it is
released. Only then does `BEGIN IMMEDIATE` run, so it finds the database free. WAL lets readers in every
process go on while one writes; `busy_timeout` still covers writers that do not take the lock (an older
build, the sqlite3 shell).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 5_000
RESTART_AFTER_FRAMES = 4_096  # 16 MB of 4 KB pages: then the checkpointer starts the WAL over (`checkpoint`)
RESTART_WAIT_MS = 200  # how long that restart waits for readers to leave the WAL before trying again later
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024  # a restarted WAL file is cut back to this size

_file_write_locks: dict[str, threading.Lock] = {}
_file_write_locks_guard = threading.Lock()


def _file_write_lock(path: Path) -> threading.Lock:
    with _file_write_locks_guard:
        return _file_write_locks.setdefault(str(path.resolve()), threading.Lock())


class SqliteDatabase:
    """A WAL-mode SQLite file; `schema` statements (idempotent DDL) run once, on open."""

    def __init__(self, path: str | Path, *, schema: Sequence[str] = ()) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._write_lock = _file_write_lock(self.path)
        self._lock_fd: int | None = os.open(f"{self.path}.write-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        # check_same_thread=False: the lock, not the creating thread, owns the connection.
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        self._checkpointer: sqlite3.Connection | None = None
        with self.write() as conn:
            for statement in schema:
                conn.execute(statement)

    @classmethod
    def temporary(cls, *, schema: Sequence[str] = ()) -> SqliteDatabase:
        """A database in a fresh temporary directory, removed on `close()` or garbage collection.

        A real file rather than `:memory:`, so tests run on WAL and the same locking as `caseline dev`.
        """
        directory = tempfile.mkdtemp(prefix="caseline-sqlite-")
        database = cls(Path(directory) / "caseline.sqlite3", schema=schema)
        database._remove_directory = weakref.finalize(database, shutil.rmtree, directory, ignore_errors=True)
        return database

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reading; each statement sees one committed snapshot."""
        with self._lock:
            yield self._open()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back when it raises."""
        # The write locks come before the connection's, so this process's readers go on while a writer waits
        # for another process to finish.
        with self._write_lock, self._other_processes_wait(), self._lock:
            conn = self._open()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _other_processes_wait(self) -> Iterator[None]:
        if self._lock_fd is None:
            raise sqlite3.ProgrammingError(f"database {self.path} is closed")
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def defer_checkpoints(self) -> None:
        """Stop commits on this connection from checkpointing the WAL themselves; `checkpoint()` does it.

        By default the commit that takes the WAL past 1,000 pages copies them into the database file and
        fsyncs it, while its writer still holds the write lock: a stall of tens of milliseconds for one
        request and every writer queued behind it. A server calls `checkpoint()` from a thread of its own.
        """
        with self._lock:
            self._open().execute("PRAGMA wal_autocheckpoint=0")

    def checkpoint(self) -> tuple[int, int, int]:
        """Copy committed WAL pages into the database file, and start the WAL over once it has grown.

        First PASSIVE, on a connection of its own and without the write lock: it copies what it can while
        writers go on. SQLite starts writing the WAL from its beginning again only when a writer finds every
        frame copied, which under steady writes never happens (new frames always arrive during the copy): the
        WAL grew by about 250 KB per ingested email, to gigabytes, each write extending the file. So when the
        WAL holds `RESTART_AFTER_FRAMES` or more, a RESTART follows under the write lock: it copies only what
        arrived meanwhile, waits for readers to leave the WAL, and the next writer starts from the beginning
        of the file (which `journal_size_limit` keeps at a bounded size). Returns SQLite's (busy, pages in
        the WAL, pages checkpointed) of the last step.
        """
        if self._conn is None:
            raise sqlite3.ProgrammingError(f"database {self.path} is closed")
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                                 timeout=RESTART_WAIT_MS / 1000)
        busy, pages, done = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if pages >= RESTART_AFTER_FRAMES:
            with self._write_lock, self._other_processes_wait():
                busy, pages, done = self._checkpointer.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        return busy, pages, done

    def close(self) -> None:
        with self._lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
        remove = getattr(self, "_remove_directory", None)
        if remove is not None:
            remove()

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError(f"database {self.path} is closed")
        return self._conn
