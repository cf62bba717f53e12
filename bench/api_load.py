"""The local platform under an agent workload, over real HTTP: throughput and latency percentiles.

    .venv/bin/python bench/api_load.py            # 10,000 customers / 100,000 cases / 500,000 entries
    .venv/bin/python bench/api_load.py --quick    # 1,000 / 10,000 / 50,000 and short phases (make bench)
    .venv/bin/python bench/api_load.py --smoke    # a tiny dataset and one-second phases: does it run?

1. Seeds the dataset with `runtime/bulk_load.py` (the production item layout, 100-operation transactions)
   into `.cache/bench/api-v1-<customers>-<cases>-<entries>/`, once: later runs reuse it and say how long
   seeding took.
2. Copies it to a scratch data directory (so every run starts from the same data) and starts the real
   `caseline dev --no-seed` on a free port as a separate process.
3. Drives it with bearer tokens of the seeded agents (signed like the dev logins) and an agent's mix of
   requests: the all-open view and the team queue, case detail, customer 360, a reply, and a status change
   sent with the If-Match of the case the agent last read.
   - closed loop: 10, then 50 clients, each sending its next request when the last one is answered;
   - open loop: requests sent on a fixed clock at 50, 100 and 200 per second whatever the server does,
     latency counted from the scheduled send time (so a stall delays, and counts against, every request
     scheduled during it instead of silently lowering the rate - no coordinated omission).
   Before those, each operation alone from one client: its latency without queueing and its server CPU.
   The load client and the server share the machine, so the CPU each used is printed too, and how long the
   server's threads waited for a CPU. `--profile SECONDS` samples the server with py-spy afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from _common import ROOT, cpu_seconds, load_average, machine, markdown_table, ms, percentile, process_tree, size_of
from caseline import bootstrap
from caseline.domain.auth import Role
from caseline.runtime.bulk_load import bulk_load
from caseline.runtime.tokens import LocalTokens
from caseline.settings import Settings

CACHE = ROOT / ".cache" / "bench"
DATASET_VERSION = 1  # bump when bulk_load's output changes, so stale caches are not reused
GOAL_THROUGHPUT = 500
GOAL_P99_MS = 50
GOAL_RATE = 200


@dataclass(frozen=True)
class Plan:
    customers: int
    cases: int
    entries: int
    warmup: float
    closed: float
    open: float
    cost: float  # seconds of one client sending one operation only, per operation
    concurrency: tuple[int, ...] = (10, 50)
    rates: tuple[int, ...] = (50, 100, 200)


PLANS = {
    "full": Plan(10_000, 100_000, 500_000, warmup=10, closed=30, open=30, cost=8),
    "quick": Plan(1_000, 10_000, 50_000, warmup=3, closed=8, open=8, cost=2),
    "smoke": Plan(40, 200, 1_000, warmup=0.5, closed=1, open=1, cost=0.3, rates=(20,)),
}

# What an agent does, by weight: mostly reading queues, cases and customers; one request in four writes.
MIX = {
    "view all_open": 12,
    "team queue": 13,
    "case detail": 30,
    "customer 360": 20,
    "reply": 12,
    "status change": 13,
}
NEXT_STATUS = {"new": "open", "pending": "open", "on_hold": "open", "open": "pending"}


# --- the dataset ------------------------------------------------------------------------------------------
@dataclass
class Dataset:
    data_dir: Path
    customers: int
    cases: int
    entries: int
    seconds: float
    cached: bool
    agents: list[dict]
    open_case_ids: list[str]
    customer_ids: list[str]


def dataset(profile: Plan, cache: Path) -> Dataset:
    """The seeded data directory for `profile`'s sizes, from the cache or seeded now."""
    key = f"api-v{DATASET_VERSION}-{profile.customers}-{profile.cases}-{profile.entries}"
    home = cache / key
    meta = home / "dataset.json"
    if meta.exists():
        stored = json.loads(meta.read_text())
        return Dataset(data_dir=home / "data", cached=True, **stored)
    building = cache / f"{key}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    (building / "data").mkdir(parents=True)
    print(f"Seeding {profile.customers:,} customers / {profile.cases:,} cases / {profile.entries:,} timeline "
          f"entries into {home} (once; later runs reuse it) ...", flush=True)
    platform = bootstrap.build(Settings(data_dir=building / "data"))
    try:
        summary = bulk_load(platform, customers=profile.customers, cases=profile.cases, entries=profile.entries)
        customer_ids: list[str] = []
        cursor = None
        while True:  # offline, once: every customer id, so the load spreads over all of them
            page = platform.deps.store.list_customers(limit=1000, cursor=cursor)
            customer_ids += [c.id for c in page.items]
            if page.cursor is None:
                break
            cursor = page.cursor
    finally:
        platform.table.close()
    stored = {
        "customers": summary.customers,
        "cases": summary.cases,
        "entries": summary.entries,
        "seconds": round(summary.seconds, 1),
        "agents": [{**asdict(a), "role": a.role.value, "team_id": summary.team_ids[i % len(summary.team_ids)]}
                   for i, a in enumerate(summary.agents, start=1)],
        "open_case_ids": summary.open_case_ids,
        "customer_ids": customer_ids,
    }
    (building / "dataset.json").write_text(json.dumps(stored))
    shutil.rmtree(home, ignore_errors=True)
    building.rename(home)
    return Dataset(data_dir=home / "data", cached=False, **stored)


# --- the server -------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`caseline dev --no-seed` in its own process, as a developer starts it."""

    def __init__(self, data_dir: Path, log: Path, workers: int = 1) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> float:
        args = [sys.executable, "-m", "caseline.cli", "dev", "--data-dir", str(self.data_dir),
                "--port", str(self.port), "--no-seed", "--workers", str(self.workers)]
        # A port of its own for the SMTP server too, so a run never meets another `caseline dev`'s.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "CASELINE_SMTP_PORT": str(free_port())}
        started = time.perf_counter()
        with self.log.open("w") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"caseline dev exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError("caseline dev did not become healthy")

    def pids(self) -> list[int]:
        """The server's process and the worker processes it started (`--workers`)."""
        assert self.process is not None
        return process_tree(self.process.pid)

    def cpu_seconds(self) -> float:
        """User + system CPU the server's processes have used so far."""
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def events_pending(self) -> int:
        """Outbox events the server's consumers have not handled yet (`/metrics`)."""
        return int(httpx.get(self.url + "/metrics", timeout=10).json()["outbox"]["pending"])

    def cpu_waits(self) -> dict[str, int]:
        """Nanoseconds each server thread has spent runnable but waiting for a CPU (schedstat), by thread.

        On a shared machine this shows how much of the latency is the scheduler's rather than the server's.
        """
        waits: dict[str, int] = {}
        for pid in self.pids():
            try:
                tasks = list(Path(f"/proc/{pid}/task").iterdir())
            except OSError:
                continue
            for task in tasks:
                try:
                    waits[task.name] = int((task / "schedstat").read_text().split()[1])
                except (OSError, IndexError, ValueError):
                    continue  # a thread that ended meanwhile
        return waits

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the agents -------------------------------------------------------------------------------------------
@dataclass
class Agent:
    token: str
    team_id: str
    rng: random.Random
    known: dict[str, tuple[str, str]] = field(default_factory=dict)  # case id -> (ETag, status) last seen


@dataclass
class Outcome:
    op: str
    seconds: float
    status: int  # 0 when the request failed before a response


class Workload:
    def __init__(self, data: Dataset, tokens: LocalTokens, *, mix: dict[str, int] = MIX, seed: int = 7) -> None:
        staff = [a for a in data.agents if a["role"] == Role.AGENT.value]
        self.tokens = [
            (tokens.issue(subject=f"local|{a['email']}", role=Role.AGENT, caseline_id=a["id"], name=a["name"],
                          email=a["email"]), a["team_id"])
            for a in staff
        ]
        self.case_ids = data.open_case_ids
        self.customer_ids = data.customer_ids
        self.seed = seed
        self.ops = list(mix)
        self.weights = list(mix.values())

    def agent(self, index: int) -> Agent:
        token, team = self.tokens[index % len(self.tokens)]
        return Agent(token, team, random.Random(self.seed * 1000 + index))

    async def step(self, client: Connection, agent: Agent) -> tuple[str, int]:
        """One request of the mix; returns (operation, HTTP status)."""
        op = agent.rng.choices(self.ops, self.weights)[0]
        headers = {"Authorization": f"Bearer {agent.token}"}
        if op == "status change" and not agent.known:
            op = "case detail"  # an agent changes the status of a case it has open
        match op:
            case "view all_open":
                response = await client.get("/views/all_open", headers=headers)
            case "team queue":
                response = await client.get(f"/queues/teams/{agent.team_id}/open", headers=headers)
            case "case detail":
                case_id = agent.rng.choice(self.case_ids)
                response = await client.get(f"/cases/{case_id}", headers=headers)
                if response.status_code == 200:
                    agent.known.pop(case_id, None)  # re-read: now the most recent
                    agent.known[case_id] = (response.headers["etag"], response.json()["case"]["status"])
            case "customer 360":
                customer_id = agent.rng.choice(self.customer_ids)
                response = await client.get(f"/customers/{customer_id}/360", headers=headers)
            case "reply":
                case_id = agent.rng.choice(self.case_ids)
                body = {"text": "Thanks for waiting - I have checked this and the fix is live now."}
                response = await client.post(f"/cases/{case_id}/replies", headers=headers, json=body)
            case _:
                case_id = next(reversed(agent.known))  # the case the agent read last
                etag, status = agent.known.pop(case_id)
                response = await client.patch(f"/cases/{case_id}", json={"status": NEXT_STATUS.get(status, "open")},
                                              headers={**headers, "If-Match": etag})
                # The agent moves on: its next status change is on a case it reads first. (Flipping the same
                # case back and forth thousands of times would measure a case with a history no case has:
                # its SLA clock re-reads that history on every change.)
        return op, response.status_code


async def _timed(workload: Workload, client: Connection, agent: Agent, since: float | None = None
                 ) -> Outcome:
    started = time.perf_counter() if since is None else since
    try:
        op, status = await workload.step(client, agent)
    except (aiohttp.ClientError, TimeoutError):
        op, status = "transport error", 0
    return Outcome(op, time.perf_counter() - started, status)


@dataclass
class Answer:
    status_code: int
    headers: Any  # case-insensitive, as HTTP's are
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """The load client's side of one simulated agent: aiohttp with `connections` kept-alive connections.

    The client shares the machine with the server, so it should cost as little CPU as it can: aiohttp's
    C-accelerated HTTP handling costs a fraction of httpx's per request. One session per agent, as each
    agent's browser holds its own connections; a shared pool of 50 is searched on every request.
    """

    def __init__(self, url: str, connections: int = 1) -> None:
        self.session = aiohttp.ClientSession(
            base_url=url, timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(limit=connections, ssl=False))

    async def _send(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> Answer:
        async with self.session.request(method, path, headers=headers, json=body) as response:
            return Answer(response.status, response.headers, await response.read())

    async def get(self, path: str, *, headers: dict[str, str]) -> Answer:
        return await self._send("GET", path, headers)

    async def post(self, path: str, *, headers: dict[str, str], json: Any) -> Answer:
        return await self._send("POST", path, headers, json)

    async def patch(self, path: str, *, headers: dict[str, str], json: Any) -> Answer:
        return await self._send("PATCH", path, headers, json)

    async def aclose(self) -> None:
        await self.session.close()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _connection(url: str, connections: int = 1) -> Connection:
    return Connection(url, connections)


async def closed_loop(url: str, workload: Workload, clients: int, seconds: float) -> list[Outcome]:
    outcomes: list[Outcome] = []
    connections = [_connection(url) for _ in range(clients)]
    stop = time.perf_counter() + seconds

    async def run(index: int, client: Connection) -> None:
        agent = workload.agent(index)
        async with client:
            while time.perf_counter() < stop:
                outcomes.append(await _timed(workload, client, agent))

    await asyncio.gather(*(run(i, c) for i, c in enumerate(connections)))
    return outcomes


async def open_loop(url: str, workload: Workload, rate: float, seconds: float, agents: int = 50
                    ) -> tuple[list[Outcome], float]:
    """Requests scheduled every 1/rate s; returns the outcomes and the latest any send actually started.

    The sends rotate over `agents` agents, each with its own small pool: a request whose agent is still
    waiting for an earlier answer opens another connection rather than queueing behind it.
    """
    people = [(workload.agent(i), _connection(url, connections=16)) for i in range(agents)]
    worst_lag = 0.0
    first = time.perf_counter() + 0.05
    tasks = []
    for n in range(int(rate * seconds)):
        scheduled = first + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        worst_lag = max(worst_lag, time.perf_counter() - scheduled)
        agent, client = people[n % agents]
        tasks.append(asyncio.create_task(_timed(workload, client, agent, since=scheduled)))
    outcomes = list(await asyncio.gather(*tasks))
    for _, client in people:
        await client.aclose()
    return outcomes, worst_lag


# --- measuring a phase ------------------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    wall: float
    outcomes: list[Outcome]
    server_cpu: float
    client_cpu: float
    server_wait: float = 0.0
    worst_lag: float = 0.0
    behind: int = 0  # outbox events not yet handled by the consumers when the load stopped
    catch_up: float = 0.0  # seconds until the consumers had handled them all

    @property
    def sustained(self) -> float:
        """Requests per second counting the time the consumers needed to finish their events too."""
        return len(self.outcomes) / (self.wall + self.catch_up)

    @property
    def ok(self) -> list[Outcome]:
        return [o for o in self.outcomes if 200 <= o.status < 300]

    @property
    def conflicts(self) -> int:
        return sum(o.status == 412 for o in self.outcomes)

    @property
    def errors(self) -> Counter:
        return Counter(o.status for o in self.outcomes if not (200 <= o.status < 300 or o.status == 412))


def measure(server: Server, name: str, run) -> Phase:
    """Run one phase, then wait until the consumers have handled every event it caused.

    The consumers run behind the API (in the primary process of `caseline dev --workers`, as behind
    EventBridge in AWS) and can fall behind under load; what they still owe is this phase's work, so their
    catch-up time and CPU are charged to it, and the next phase starts from an empty backlog.
    """
    server_before, waited_before = server.cpu_seconds(), server.cpu_waits()
    client_before, started = time.process_time(), time.perf_counter()
    result = asyncio.run(run)
    wall = time.perf_counter() - started
    outcomes, lag = result if isinstance(result, tuple) else (result, 0.0)
    client_cpu = time.process_time() - client_before
    behind = server.events_pending()
    caught_up = time.perf_counter()
    while behind and server.events_pending():
        time.sleep(0.05)
    catch_up = time.perf_counter() - caught_up if behind else 0.0
    return Phase(name, wall, outcomes, server.cpu_seconds() - server_before, client_cpu,
                 _waited(waited_before, server.cpu_waits()), lag, behind, catch_up)


def _waited(before: dict[str, int], after: dict[str, int]) -> float:
    """Seconds of run-queue wait between two snapshots, over the threads alive at the end."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def _latencies(outcomes: list[Outcome]) -> list[float]:
    return [o.seconds for o in outcomes]


def _percentiles(outcomes: list[Outcome]) -> list[str]:
    values = _latencies(outcomes)
    return [ms(percentile(values, 50)), ms(percentile(values, 95)), ms(percentile(values, 99))]


def _errors(phase: Phase) -> str:
    return ", ".join(f"{n}x {status or 'transport'}" for status, n in sorted(phase.errors.items())) or "0"


def report_costs(phases: list[Phase]) -> None:
    """One client sending one operation: its latency without queueing, and the server CPU it costs."""
    rows, weighted = [], 0.0
    alone = {phase.name: phase.server_cpu / max(len(phase.outcomes), 1) for phase in phases}
    for phase in phases:
        op = phase.name
        mine = [o for o in phase.ok if o.op == op]
        # A status change needs a case just read, so that phase reads one before each change; the reads are
        # charged at what the case-detail phase measured, and the rest is the status change's.
        reads = [o for o in phase.outcomes if o.op != op]
        cpu = phase.server_cpu - len(reads) * alone.get("case detail", 0.0)
        cpu_ms = cpu / max(len(phase.outcomes) - len(reads), 1) * 1000
        weighted += cpu_ms * MIX[op] / sum(MIX.values())
        rows.append([op, len(mine), *_percentiles(mine), f"{cpu_ms:.2f}", _errors(phase)])
    print("\n### Cost per operation (one client, one operation at a time)\n")
    print(markdown_table(["operation", "requests", "p50 ms", "p95 ms", "p99 ms", "server CPU ms/req", "errors"],
                         rows))
    print(f"\nServer CPU per request of the mix: {weighted:.2f} ms, so one fully used core serves about "
          f"{1000 / weighted:.0f} req/s of it.")


def report_closed(phases: list[Phase]) -> None:
    rows = []
    for phase in phases:
        rate = len(phase.outcomes) / phase.wall
        spent = phase.wall + phase.catch_up
        rows.append([phase.name, len(phase.outcomes), f"{rate:.0f}", f"{phase.behind} / {phase.catch_up:.1f}",
                     f"**{phase.sustained:.0f}**", *_percentiles(phase.ok), _errors(phase),
                     phase.conflicts, f"{phase.server_cpu / spent:.2f}", f"{phase.server_wait / spent:.2f}",
                     f"{phase.client_cpu / phase.wall:.2f}",
                     f"{phase.server_cpu / max(len(phase.outcomes), 1) * 1000:.2f}"])
    print("\n### Closed loop (each client sends its next request when the last is answered)\n")
    print("req/s: answered while the clients sent; events behind / s: the consumers' backlog when they stopped\n"
          "and how long it took to clear; sustained: requests over both, the rate the platform keeps up with.\n"
          "Server CPU counts the catch-up too.\n")
    print(markdown_table(["clients", "requests", "req/s", "events behind / s", "sustained req/s", "p50 ms",
                          "p95 ms", "p99 ms", "errors", "412s", "server CPU (cores)", "server waiting for CPU",
                          "client CPU (cores)", "server CPU ms/req"], rows))
    for phase in phases:
        by_op: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in phase.ok:
            by_op[outcome.op].append(outcome)
        print(f"\nPer operation, {phase.name} clients:\n")
        print(markdown_table(["operation", "requests", "p50 ms", "p95 ms", "p99 ms"],
                             [[op, len(by_op[op]), *_percentiles(by_op[op])] for op in MIX if by_op[op]]))
    worst = min(p.sustained for p in phases)
    verdict = "met" if worst >= GOAL_THROUGHPUT else "not met"
    print(f"\nSustained throughput {', '.join(f'{p.sustained:.0f}' for p in phases)} req/s at "
          f"{', '.join(p.name for p in phases)} clients (goal >= {GOAL_THROUGHPUT} req/s on 2 cores at each: "
          f"{verdict})")


def report_open(phases: list[Phase]) -> None:
    rows = []
    for phase in phases:
        offered = float(phase.name)
        rows.append([f"{offered:.0f}", f"{len(phase.ok) / phase.wall:.0f}", len(phase.outcomes),
                     *_percentiles(phase.outcomes), ms(max(_latencies(phase.outcomes), default=float("nan"))),
                     _errors(phase), phase.conflicts, ms(phase.worst_lag), f"{phase.behind} / {phase.catch_up:.1f}",
                     f"{phase.server_cpu / (phase.wall + phase.catch_up):.2f}",
                     f"{phase.server_wait / (phase.wall + phase.catch_up):.2f}",
                     f"{phase.client_cpu / phase.wall:.2f}"])
    print("\n### Open loop (sends on a fixed clock; latency from the scheduled send time)\n")
    print(markdown_table(["offered req/s", "answered OK req/s", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms",
                          "errors", "412s", "worst send lag ms", "events behind / s", "server CPU (cores)",
                          "server waiting for CPU", "client CPU (cores)"], rows))
    at_goal = [p for p in phases if float(p.name) == GOAL_RATE]
    if at_goal:
        p99 = percentile(_latencies(at_goal[0].outcomes), 99) * 1000
        verdict = "met" if p99 < GOAL_P99_MS and not at_goal[0].errors else "not met"
        print(f"\np99 at {GOAL_RATE} req/s: {p99:.1f} ms (goal < {GOAL_P99_MS} ms, no errors: {verdict})")


# --- where the server's time goes -------------------------------------------------------------------------
# Each sample is charged to the first of these found walking from the innermost frame outwards.
PROFILE_PARTS = (
    ("JWT verification (PyJWT)", r"\(jwt/|\(hmac\.py"),
    ("X-Ray tracer", "aws_xray_sdk"),
    ("SQLite table adapter", "sqlite_table.py|sqlite_db.py"),
    ("pydantic (parse, validate, serialize)", "pydantic"),
    ("Powertools request/response validation", "openapi_validation|event_handler/openapi"),
    ("Powertools resolver, logger, tracer", "aws_lambda_powertools"),
    ("Caseline api/services/store/domain", "caseline/(api|services|adapters/store|domain)"),
    ("outbox dispatcher and consumers", "outbox_dispatcher|caseline/consumers"),
    ("local gateway (event, thread hand-off)", "caseline/runtime/gateway|anyio|starlette/concurrency"),
    ("HTTP server (uvicorn h11, Starlette, asyncio)", "uvicorn|starlette|h11|asyncio|selectors"),
)


def profile_server(server: Server, workload: Workload, seconds: float, out: Path) -> None:
    """Sample the server's GIL holder with py-spy under 10 clients and print the time by part."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("\n--profile needs py-spy: .venv/bin/pip install py-spy")
        return
    assert server.process is not None
    recorder = subprocess.Popen([spy, "record", "--pid", str(server.process.pid), "--subprocesses", "--gil",
                                 "--rate", "250", "--duration", str(int(seconds)), "--format", "raw",
                                 "--output", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    phase = measure(server, "10", closed_loop(server.url, workload, 10, seconds))
    recorder.wait()
    parts: Counter = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        part = next((name for frame in reversed(frames) for name, pattern in PROFILE_PARTS
                     if re.search(pattern, frame)), "other")
        parts[part] += int(count)
        total += int(count)
    print(f"\n### Where the server's CPU goes (py-spy --gil, 10 clients, {seconds:.0f} s, "
          f"{len(phase.outcomes) / phase.wall:.0f} req/s, {phase.server_cpu / phase.wall:.2f} cores)\n")
    print(markdown_table(["part", "share of samples"],
                         [[name, f"{n / max(total, 1) * 100:.1f}%"] for name, n in parts.most_common()]))


# --- the run ----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="1,000 customers and short phases")
    size.add_argument("--smoke", action="store_true", help="a tiny dataset and one-second phases")
    parser.add_argument("--cache-dir", type=Path, default=CACHE, help="where seeded datasets are kept")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="caseline dev --workers: server processes (default: one per core)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data directory and server log")
    parser.add_argument("--profile", type=float, metavar="SECONDS",
                        help="afterwards, sample the server with py-spy for this long and print where time goes")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if any request failed (an answer other than 2xx or 412, or none)")
    args = parser.parse_args(argv)
    profile = PLANS["quick" if args.quick else "smoke" if args.smoke else "full"]

    print("## API load")
    print(f"\nMachine: {machine()}; {load_average()} at the start")
    data = dataset(profile, args.cache_dir)
    how = "reused from the cache; seeding took" if data.cached else "seeded in"
    print(f"Dataset: {data.customers:,} customers, {data.cases:,} cases, {data.entries:,} timeline entries "
          f"({size_of(data.data_dir) / 1e6:,.0f} MB) - {how} {data.seconds:.1f} s")

    scratch = args.cache_dir / f"run-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    started = time.perf_counter()
    shutil.copytree(data.data_dir, scratch / "data")
    print(f"Copied to a scratch data directory in {time.perf_counter() - started:.1f} s")
    server = Server(scratch / "data", scratch / "server.log", args.workers)
    failed = 0
    try:
        print(f"Server ready in {server.start():.1f} s at {server.url} (caseline dev --no-seed "
              f"--workers {args.workers}, pid {server.process.pid if server.process else '?'})")
        workload_tokens = LocalTokens(Settings(data_dir=scratch / "data"))
        workload = Workload(data, workload_tokens)
        warmup = measure(server, "warm-up", closed_loop(server.url, workload, 10, profile.warmup))
        costs = []
        for op in MIX:
            alone = Workload(data, workload_tokens, mix={op: 1})
            costs.append(measure(server, op, closed_loop(server.url, alone, 1, profile.cost)))
        report_costs(costs)
        closed = [measure(server, str(n), closed_loop(server.url, workload, n, profile.closed))
                  for n in profile.concurrency]
        report_closed(closed)
        opened = [measure(server, str(rate), open_loop(server.url, workload, rate, profile.open))
                  for rate in profile.rates]
        report_open(opened)
        if args.profile:
            profile_server(server, workload, args.profile, scratch / "profile.txt")
        failed = sum(sum(p.errors.values()) for p in [warmup, *costs, *closed, *opened])
        print(f"\nPhases: {profile.closed:.0f} s closed loop, {profile.open:.0f} s open loop, after "
              f"{profile.warmup:.0f} s of warm-up at 10 clients. Mix: "
              + ", ".join(f"{op} {w}%" for op, w in MIX.items()) + ".")
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nFinished; {load_average()}; {failed} failed request(s).")
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
