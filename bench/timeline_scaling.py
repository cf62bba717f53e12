"""Does the first page of a customer's timeline cost the same at 10 entries and at 10,000?

    .venv/bin/python bench/timeline_scaling.py               # 10 vs 10,000 entries, both adapters
    .venv/bin/python bench/timeline_scaling.py --smoke       # tiny sizes, a few calls: checks it runs

For each adapter (embedded SQLite, DynamoDB on moto) it makes customers with each timeline length, then
calls the service functions behind `GET /customers/{id}/360` and `GET /customers/{id}/timeline` (and the
kind-filtered timeline, a GSI query) in turn, interleaving the sizes so drift hits them alike. It prints
median and p95 latency per size, the ratio largest/smallest (goal <= 1.3), and on DynamoDB the requests
each call sends (goal: 1) and the items DynamoDB examined for it, counted from botocore's own events.

Moto is an in-process emulator: its latency says nothing about DynamoDB's, and it sorts the whole table to
answer a query, so its ratio is moto's. The request and examined-item counts are what carry over, and a few
calls there are enough.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from _common import (
    dynamodb_platform,
    load_average,
    loading_platform,
    machine,
    markdown_table,
    ms,
    percentile,
    sqlite_platform,
)
from caseline import bootstrap
from caseline.domain.auth import Principal, Role
from caseline.domain.common import Channel
from caseline.ports.clock import FixedClock, UlidIds
from caseline.runtime.bulk_load import bulk_timeline
from caseline.services import cases as case_service
from caseline.services import customers as customer_service
from caseline.services.commands import CreateCustomer, CustomerRef, OpenCase
from caseline.services.context import Deps, Request

from tests.support.aws_calls import count_dynamodb_calls

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GOAL_RATIO = 1.3
DEFAULT_PAGE = 25  # the API's default page size
Call = Callable[[str], list[Any]]
OPEN_CASES = 3  # each customer has a few open cases, so the 360 carries open-case refs too


@dataclass
class Cell:
    """The calls of one operation on one customer size."""

    seconds: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    examined: list[int] = field(default_factory=list)


def _staff() -> Request:
    ids = UlidIds()
    principal = Principal(subject="bench", role=Role.AGENT, agent_id=ids.new(), name="Bench Agent")
    return Request(principal=principal, request_id="bench")


def _customer_with_timeline(built: bootstrap.Platform, staff: Request, size: int) -> tuple[str, int]:
    """A customer whose timeline holds `size` entries: a few cases through the services, the rest bulk."""
    deps = built.deps
    customer = customer_service.create_customer(
        deps, staff, CreateCustomer(name=f"Timeline {size}", emails=[f"timeline{size}@bench.example"]))
    opened = min(OPEN_CASES, max(size // 3, 1))
    for n in range(opened):
        case_service.open_case(deps, staff, OpenCase(channel=Channel.EMAIL, subject=f"Case {n}", text="Hello",
                                                     requester=CustomerRef(customer_id=customer.id)))
    have = _timeline_count(built, staff, customer.id)
    if size > have:
        bulk_timeline(loading_platform(built), customer.id, size - have)
    return customer.id, _timeline_count(built, staff, customer.id)


def _timeline_count(built: bootstrap.Platform, staff: Request, customer_id: str) -> int:
    return customer_service.customer_360(built.deps, staff, customer_id, page_size=1).counts["timeline_entries"]


def _operations(built: bootstrap.Platform, staff: Request, pages: list[int]) -> dict[tuple[str, int], Call]:
    deps = built.deps
    operations: dict[tuple[str, int], Call] = {}
    for page in pages:
        operations[("customer 360", page)] = partial(_overview, deps, staff, page)
        operations[("timeline, first page", page)] = partial(_first_page, deps, staff, page)
    return operations


def _overview(deps: Deps, staff: Request, page: int, customer_id: str) -> list[Any]:
    return customer_service.customer_360(deps, staff, customer_id, page_size=page).timeline.items


def _first_page(deps: Deps, staff: Request, page: int, customer_id: str) -> list[Any]:
    return customer_service.customer_timeline(deps, staff, customer_id, limit=page, cursor=None, kind=None,
                                              channel=None).items


@contextmanager
def _examined(client: Any) -> Iterator[list[int]]:
    """Items DynamoDB examined (ScannedCount of each Query, 1 per GetItem hit) while the block runs."""
    seen: list[int] = []

    def record(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if "ScannedCount" in parsed:
            seen.append(int(parsed["ScannedCount"]))
        elif model.name == "GetItem":
            seen.append(1 if parsed.get("Item") else 0)

    client.meta.events.register("after-call.dynamodb", record)
    try:
        yield seen
    finally:
        client.meta.events.unregister("after-call.dynamodb", record)


def _measure(built: bootstrap.Platform, customers: dict[int, str], pages: list[int], iterations: int,
             warmup: int) -> dict[tuple[str, int, int], Cell]:
    """Cells keyed (operation, page size, timeline length); every round calls each operation on each size."""
    staff = _staff()
    operations = _operations(built, staff, pages)
    client = getattr(built.table, "client", None)
    cells = {(name, page, size): Cell() for name, page in operations for size in customers}
    for round_ in range(warmup + iterations):
        for (name, page), call in operations.items():
            for size, customer_id in customers.items():
                requests: list[str] = []
                examined: list[int] = []
                if client is None:
                    started = time.perf_counter()
                    items = call(customer_id)
                    elapsed = time.perf_counter() - started
                else:
                    with count_dynamodb_calls(client) as requests, _examined(client) as examined:
                        started = time.perf_counter()
                        items = call(customer_id)
                        elapsed = time.perf_counter() - started
                if len(items) != min(page, size):
                    raise RuntimeError(f"{name} of the {size}-entry customer returned {len(items)} of {page}")
                if round_ < warmup:
                    continue
                cell = cells[(name, page, size)]
                cell.seconds.append(elapsed)
                if client is not None:
                    cell.requests.append(len(requests))
                    cell.examined.append(sum(examined))
    return cells


def _report(label: str, lengths: dict[int, int], cells: dict[tuple[str, int, int], Cell]) -> list[float]:
    """Print the figures; returns the median ratios."""
    small, large = min(lengths), max(lengths)
    dynamo = any(c.requests for c in cells.values())
    headers = ["operation", "page", "entries", "median ms", "p95 ms"]
    if dynamo:
        headers += ["requests/call", "items examined/call"]
    rows = []
    for (name, page, size), cell in cells.items():
        row = [name, page, f"{lengths[size]:,}", ms(statistics.median(cell.seconds)),
               ms(percentile(cell.seconds, 95))]
        if dynamo:
            row += [_spread(cell.requests), _spread(cell.examined)]
        rows.append(row)
    print(f"\n### {label}\n")
    print(markdown_table(headers, rows))
    ratio_rows, ratios = [], []
    for name, page in dict.fromkeys((n, p) for n, p, _ in cells):
        low, high = cells[(name, page, small)], cells[(name, page, large)]
        median_ratio = statistics.median(high.seconds) / statistics.median(low.seconds)
        p95_ratio = percentile(high.seconds, 95) / percentile(low.seconds, 95)
        ratios.append(median_ratio)
        returned = f"{min(page, lengths[small])} vs {min(page, lengths[large])}"
        verdict = "met" if median_ratio <= GOAL_RATIO else "not met"
        ratio_rows.append([name, page, returned, f"{median_ratio:.2f}", f"{p95_ratio:.2f}", verdict])
    print(f"\nRatio {lengths[large]:,} / {lengths[small]:,} entries (goal: median ratio <= {GOAL_RATIO}):\n")
    print(markdown_table(["operation", "page", "entries returned", "median ratio", "p95 ratio", "goal"],
                         ratio_rows))
    if dynamo:
        most = max(max(c.requests) for c in cells.values())
        print(f"\nDynamoDB requests per call: at most {most} (goal: 1, {'met' if most == 1 else 'not met'})")
    return ratios


def _spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def run_adapter(adapter: str, sizes: list[int], pages: list[int], iterations: int, warmup: int) -> list[float]:
    clock = FixedClock(START)
    builder: AbstractContextManager[bootstrap.Platform] = (
        sqlite_platform(clock) if adapter == "sqlite" else dynamodb_platform(clock))
    with builder as built:
        staff = _staff()
        started = time.perf_counter()
        customers: dict[int, str] = {}
        lengths: dict[int, int] = {}
        for size in sizes:
            customers[size], lengths[size] = _customer_with_timeline(built, staff, size)
        loaded = time.perf_counter() - started
        label = "embedded SQLite" if adapter == "sqlite" else "DynamoDB on moto"
        print(f"\n{label}: loaded {sum(lengths.values()):,} timeline entries in {loaded:.1f} s; "
              f"{iterations} measured calls per row after {warmup} warm-up rounds")
        cells = _measure(built, customers, pages, iterations, warmup)
        return _report(label, lengths, cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,10000", help="timeline lengths to compare (comma-separated)")
    parser.add_argument("--pages", default=f"{DEFAULT_PAGE},10",
                        help="page sizes: the API default, and one the small customer fills too")
    parser.add_argument("--iterations", type=int, default=1000, help="measured calls per row on SQLite")
    # Moto sorts the whole table on every Query, so each call there costs a second or so at 10,000 entries;
    # its latencies mean nothing for DynamoDB anyway. A few calls give the request and examined-item counts.
    parser.add_argument("--moto-iterations", type=int, default=5, help="measured calls per row on moto")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured rounds first (1 on moto)")
    parser.add_argument("--adapters", default="sqlite,dynamodb")
    parser.add_argument("--smoke", action="store_true", help="10 vs 100 entries, a few calls: does it run?")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.iterations, args.moto_iterations, args.warmup = "10,100", 5, 3, 1
    sizes = sorted(int(s) for s in args.sizes.split(","))
    pages = [int(p) for p in args.pages.split(",")]
    if len(sizes) < 2 or sizes[0] < 1 or min(pages) < 1:
        parser.error("--sizes needs at least two positive sizes, --pages positive page sizes")
    print("## Timeline scaling")
    print(f"\nMachine: {machine()}; {load_average()} at the start")
    for adapter in args.adapters.split(","):
        adapter = adapter.strip()
        if adapter == "sqlite":
            run_adapter(adapter, sizes, pages, args.iterations, args.warmup)
        else:
            run_adapter(adapter, sizes, pages, args.moto_iterations, min(args.warmup, 1))
    print(f"\nFinished; {load_average()}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
