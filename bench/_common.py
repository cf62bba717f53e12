"""What the benchmarks share: the machine they ran on, percentiles, tables, and a platform on each adapter.

The platforms are put together from the same parts `tests/conftest.py` uses (SqliteTable or DynamoDbTable
on moto, `bootstrap.build`), so a benchmark measures the code the tests hold to its contract.
"""

from __future__ import annotations

import math
import os
import platform as host
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so `tests.support` imports when a script runs as `python bench/<name>.py`
    sys.path.insert(0, str(ROOT))

from caseline import bootstrap  # noqa: E402
from caseline.adapters.aws.dynamodb_expressions import to_attribute_values  # noqa: E402
from caseline.adapters.aws.dynamodb_table import DynamoDbTable, create_table  # noqa: E402
from caseline.adapters.embedded.memory_metrics import MemoryMetrics  # noqa: E402
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence  # noqa: E402
from caseline.adapters.embedded.sqlite_table import SqliteTable  # noqa: E402
from caseline.ports.clock import Clock  # noqa: E402
from caseline.ports.table import Item, Key, Page, Put, Query, Table, WriteOp  # noqa: E402
from caseline.settings import Settings  # noqa: E402

REGION = "eu-west-1"
TABLE_NAME = "caseline"
BATCH_WRITE_ITEMS = 25  # DynamoDB's BatchWriteItem limit


# --- the machine -------------------------------------------------------------------------------------------
def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{model}, {cores} cores usable, Python {host.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{host.system()} {host.release()}")


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews every figure, so each run prints it."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


# --- figures -----------------------------------------------------------------------------------------------
def process_tree(pid: int) -> list[int]:
    """A process and every process it started, and theirs (`caseline dev --workers` spawns its workers)."""
    pids, seen = [pid], 0
    while seen < len(pids):
        current = pids[seen]
        seen += 1
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                pids += [int(child) for child in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
    return pids


def cpu_seconds(pid: int, *, children: bool = True) -> float:
    """User + system CPU a process and its children (`process_tree`) have used so far, from /proc.

    `children=False`: the process alone (the primary of `caseline dev --workers`, without its workers).
    """
    ticks = 0
    for member in process_tree(pid) if children else [pid]:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_by_process(pid: int) -> dict[int, float]:
    """`cpu_seconds` of each process of the tree, by pid: how evenly the workers of `--workers` were used."""
    return {member: cpu_seconds(member, children=False) for member in process_tree(pid)}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.2f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table, so a run's output can go into docs/performance.md as it is."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# --- platforms ---------------------------------------------------------------------------------------------
@contextmanager
def sqlite_platform(clock: Clock, directory: Path | None = None) -> Iterator[bootstrap.Platform]:
    """The embedded adapters on a SQLite file in `directory` (a temporary one when None)."""
    with tempfile.TemporaryDirectory(prefix="caseline-bench-") as scratch:
        where = directory or Path(scratch)
        table = SqliteTable(where / "caseline.db", stream_filter=bootstrap.is_outbox_item)
        built = bootstrap.build(Settings(data_dir=where), table=table, clock=clock,
                                idempotency=SqliteIdempotencyPersistence(where / "idempotency.db"))
        bootstrap.use(built)
        try:
            yield built
        finally:
            bootstrap.use(None)
            table.close()


@contextmanager
def dynamodb_platform(clock: Clock) -> Iterator[bootstrap.Platform]:
    """The DynamoDB adapter on moto (inside `mock_aws`, with throwaway credentials), the table as deployed."""
    import boto3
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from moto import mock_aws

    fake = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION}
    saved = {name: os.environ.get(name) for name in [*fake, "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"]}
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(fake)
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            create_table(client, TABLE_NAME)
            settings = Settings(adapters="aws", table_name=TABLE_NAME, region=REGION)
            # Metrics stay in memory: EMF lines on stdout would bury the figures.
            built = bootstrap.build(settings, table=DynamoDbTable(TABLE_NAME, client=client), clock=clock,
                                    metrics=MemoryMetrics(),
                                    idempotency=DynamoDBPersistenceLayer(table_name="unused", boto3_client=client))
            bootstrap.use(built)
            try:
                yield built
            finally:
                bootstrap.use(None)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class BatchLoadingTable(Table):
    """Loads fresh data into DynamoDB with BatchWriteItem instead of TransactWriteItems.

    For bulk loading only, into a table that holds none of the keys yet: a batch is neither atomic nor
    conditional. Moto copies the whole table on every TransactWriteItems call, so 100-operation
    transactions get slower as the table grows; plain batches keep a 10,000-entry load to seconds. The
    items are the ones the store's unit of work builds; counters still go through the adapter one by one.
    """

    def __init__(self, inner: DynamoDbTable) -> None:
        self.inner = inner

    def get(self, key: Key, *, now: int) -> Item | None:
        return self.inner.get(key, now=now)

    def query(self, query: Query, *, now: int) -> Page:
        return self.inner.query(query, now=now)

    def increment(self, key: Key, attribute: str, by: int = 1) -> int:
        return self.inner.increment(key, attribute, by)

    def scan(self) -> Iterator[Item]:
        return self.inner.scan()

    def transact(self, ops: Sequence[WriteOp]) -> None:
        puts = [op for op in ops if isinstance(op, Put)]
        for start in range(0, len(puts), BATCH_WRITE_ITEMS):
            requests = [{"PutRequest": {"Item": to_attribute_values(p.item)}}
                        for p in puts[start:start + BATCH_WRITE_ITEMS]]
            unprocessed: dict[str, Any] = {self.inner.table_name: requests}
            while unprocessed:
                unprocessed = self.inner.client.batch_write_item(RequestItems=unprocessed).get(
                    "UnprocessedItems") or {}
        for op in ops:
            if not isinstance(op, Put):
                self.inner.transact([op])


def loading_platform(built: bootstrap.Platform) -> bootstrap.Platform:
    """A platform that writes bulk data into `built`'s table the fastest way its adapter allows."""
    if not isinstance(built.table, DynamoDbTable):
        return built
    return bootstrap.build(built.settings, table=BatchLoadingTable(built.table), clock=built.deps.clock,
                           metrics=built.deps.metrics, idempotency=built.idempotency())


def size_of(directory: Path) -> int:
    """Bytes in the files under `directory`."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
