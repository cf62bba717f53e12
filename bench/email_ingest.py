"""Inbound email through the SMTP server of a real `caseline dev` into cases: throughput and latency.

    .venv/bin/python bench/email_ingest.py             # 2,000 messages
    .venv/bin/python bench/email_ingest.py --quick     # 200 messages
    .venv/bin/python bench/email_ingest.py -n 5000 --clients 16

1. Starts `caseline dev --no-seed` on free HTTP and SMTP ports in a scratch data directory, with the default
   settings (seven languages, high-accuracy detection, 20 messages per sender per 10 minutes) and waits until
   a first message has gone through (the language models load at start; that is start-up, not ingestion).
2. Generates N messages from N/10 senders (so no sender reaches the rate limit): plain text or
   multipart/alternative in English, German, Spanish or French, one in ten with a small PNG attached,
   one in five a reply carrying the subject token of an earlier case of the same sender.
3. `--clients` threads each keep one SMTP connection and send their share of messages one after another
   (several transactions per connection, as a relay does). For each message it records the time DATA was
   sent, the time the 250 came back, and the time `GET /cases/{id}` first answered 200 with the new
   interaction in it (polled right after the 250).
4. Prints messages/s over the whole send phase, the percentiles of DATA → 250 (the server stores the case
   before it answers), 250 → readable through the API, and DATA → readable; the outcomes; the CPU time the
   server's processes used; and the machine and its load, since the load generator shares it.
5. Waits until the consumers (in the primary process of `caseline dev --workers`) have handled every event
   the messages caused, and prints the sustained rate counting that time; the goal is judged on it.
Goal: >= 200 messages/s on 2 cores with p95 (DATA → readable) under 1 s.

`--in-process` skips the SMTP and HTTP servers: over what `caseline dev` builds (`build_local`, in a scratch
directory) it takes each message through `ingest`, then the outbox dispatcher with every local consumer for
what the message wrote, then one `GET /cases/{id}?limit=1` straight into the gateway's ASGI app, and prints the
CPU (`time.process_time`, every thread) and wall time per message of each, the CPU of each consumer, and the
CPU of ingest's steps measured on their own (parse, classify and split, language detection). `--profile FILE`
adds a cProfile (CPU clock) of the messages. CPU per message, not messages per second, is the figure to
compare: it moves much less with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import os
import random
import shutil
import smtplib
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path

from _common import cpu_by_process, cpu_seconds, load_average, machine, markdown_table, percentile, size_of
from caseline.domain.auth import Role

from tests.support.dev_server import DevServer, free_port

SUPPORT = "support@caseline.localhost"
GOAL_RATE = 200
GOAL_P95 = 1.0
SENTENCES = {
    "en": "My order arrived damaged and the replacement has not shipped yet. Could you check what happened?",
    "de": "Meine Bestellung kam beschädigt an und der Ersatz wurde noch nicht verschickt. Bitte prüfen Sie das.",
    "es": "Mi pedido llegó dañado y el reemplazo todavía no se ha enviado. ¿Pueden revisar qué ha pasado?",
    "fr": "Ma commande est arrivée endommagée et le remplacement n'est pas encore parti. Pouvez-vous vérifier ?",
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20


@dataclass
class Sample:
    sent: float
    accepted: float
    readable: float
    outcome: str


@dataclass
class Shared:
    cases_by_sender: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


CASE_PLACEHOLDER = b"@@CASE@@"


@dataclass(frozen=True)
class Prepared:
    """One message's bytes, built before the clock starts: as a new request, and as a reply to the sender's
    earlier case (its number filled in when sent). Building MIME in the sending threads would make the load
    client compete with the server for the 2 cores much more than sending does."""

    new: bytes
    reply: bytes
    replies: bool  # a reply if the sender has an earlier case by then (one in five)


def prepare(n: int, sender: str, rng: random.Random) -> Prepared:
    language = rng.choice(list(SENTENCES))
    replies = rng.random() < 0.2
    message_id = f"<bench-{n}-{rng.getrandbits(48):x}@example.net>"
    body = "Hello,\n\n" + " ".join([SENTENCES[language]] * rng.randint(2, 8)) + "\n\nThanks,\nA customer\n"
    html = rng.random() < 0.3
    attached = rng.random() < 0.1

    def build(subject: str) -> bytes:
        msg = EmailMessage()
        msg["From"] = f"Customer {n % 997} <{sender}>"
        msg["To"] = SUPPORT
        msg["Subject"] = subject
        msg["Message-ID"] = message_id
        msg.set_content(body)
        if html:
            msg.add_alternative(f"<p>{body}</p>", subtype="html")
        if attached:
            msg.add_attachment(PNG, maintype="image", subtype="png", filename=f"photo-{n}.png")
        return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    subject = f"Order {100000 + n} arrived damaged"
    return Prepared(build(subject), build(f"Re: {subject} [#{CASE_PLACEHOLDER.decode()}]"), replies)


def message(prepared: Prepared, sender: str, shared: Shared) -> bytes:
    with shared.lock:
        earlier = shared.cases_by_sender.get(sender)
    if earlier and prepared.replies:
        return prepared.reply.replace(CASE_PLACEHOLDER, str(earlier).encode())
    return prepared.new


def client(server: DevServer, token: str, jobs: list[int], senders: list[str], prepared: list[Prepared],
           shared: Shared, samples: list[Sample]) -> None:
    api = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)  # light: it shares the machine
    headers = {"Authorization": f"Bearer {token}"}
    smtp = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=120)
    smtp.ehlo("bench.example.net")
    try:
        for n in jobs:
            sender = senders[n % len(senders)]
            raw = message(prepared[n], sender, shared)
            smtp.mail(sender)
            smtp.rcpt(SUPPORT)
            sent = time.perf_counter()
            code, reply = smtp.data(raw)
            accepted = time.perf_counter()
            words = reply.decode().split()
            if code != 250:
                samples.append(Sample(sent, accepted, accepted, f"smtp {code}"))
                continue
            outcome, target = words[2], words[3]
            readable = accepted
            if outcome in ("case_opened", "reply_added"):
                readable = wait_readable(api, headers, target)
                if outcome == "case_opened":
                    with shared.lock:
                        shared.cases_by_sender[sender] = int(words[4].lstrip("#"))
            samples.append(Sample(sent, accepted, readable, outcome))
    finally:
        smtp.quit()
        api.close()


def wait_readable(api: http.client.HTTPConnection, headers: dict[str, str], case_id: str) -> float:
    while True:
        api.request("GET", f"/cases/{case_id}?limit=1", headers=headers)
        response = api.getresponse()
        response.read()
        if response.status == 200:
            return time.perf_counter()
        time.sleep(0.005)


def events_pending(server: DevServer) -> int:
    """Outbox events the server's consumers have not handled yet (`/metrics`)."""
    api = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        api.request("GET", "/metrics")
        return int(json.loads(api.getresponse().read())["outbox"]["pending"])
    finally:
        api.close()


def warm_up(server: DevServer, count: int) -> None:
    """Send `count` messages at once: the language models are loaded and every ingesting thread has run."""

    def send(n: int) -> None:
        warm = EmailMessage()
        warm["From"], warm["To"], warm["Subject"] = f"warm{n}@example.org", SUPPORT, "Warm-up"
        warm.set_content("This message waits for the language models to load.")
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=120) as smtp:
            smtp.sendmail(f"warm{n}@example.org", [SUPPORT], warm.as_bytes())

    threads = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def in_process(total: int, senders: list[str], *, profile: str | None = None) -> None:
    from caseline.mail import detect_language, parse_message, split_reply
    from caseline.mail.classify import classify
    from caseline.runtime.server import build_local
    from caseline.services.inbound_mail import ingest, source_id_for
    from caseline.services.rules import install_defaults
    from caseline.settings import Settings

    # What `caseline dev --no-seed` builds: the platform, the outbox dispatcher with every local consumer, the
    # gateway, and the shipped automation rules (installed on every first start; they run on each new case).
    scratch = Path(tempfile.mkdtemp(prefix="caseline-mail-bench-"))
    local = build_local(Settings(data_dir=scratch / "data"))
    deps, dispatcher = local.platform.deps, local.dispatcher
    install_defaults(deps)
    spent: Counter[str] = Counter()
    dispatcher.consumers = [replace(c, handle=_timed(c.name, c.handle, spent)) for c in dispatcher.consumers]
    token = local.tokens.issue(subject="bench", role=Role.ADMIN, caseline_id=deps.ids.new(), name="Bench",
                               email="bench@caseline.localhost")
    api = _AsgiReader(local.gateway.app(), token)
    rng = random.Random(7)
    shared = Shared()
    senders_of = [senders[n % len(senders)] for n in range(total)]
    prepared = [prepare(n, senders_of[n], rng) for n in range(total)]
    first = ingest(deps, message(prepared[0], senders_of[0], shared), recipients=[SUPPORT], source_id="warm-up")
    dispatcher.drain()  # the warm-up message loads the language models
    api.read_case(first.case_id)
    print(machine())
    print(load_average())

    # Each message as the server handles it: ingest, the consumers for what it wrote, one API read. Messages
    # are written as they go, so that one in five replies to an earlier case of its sender.
    cpu_of: Counter[str] = Counter()
    wall_of: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    events = Counter(dispatcher.stats.by_type)
    spent.clear()

    def timed(name: str, step):
        cpu, wall = time.process_time(), time.perf_counter()
        result = step()
        cpu_of[name] += time.process_time() - cpu
        wall_of[name] += time.perf_counter() - wall
        return result

    raws: list[bytes] = []
    collecting: dict[str, float] = {"since": 0.0, "spent": 0.0}

    def garbage_collection(phase: str, info: dict) -> None:  # CPU of the cyclic collector, inside the rest
        if phase == "start":
            collecting["since"] = time.process_time()
        else:
            collecting["spent"] += time.process_time() - collecting["since"]

    gc.callbacks.append(garbage_collection)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, not waits
        profiler.enable()
    for n in range(1, total):
        raw = message(prepared[n], senders_of[n], shared)
        raws.append(raw)
        outcome = timed("ingest", lambda raw=raw: ingest(deps, raw, recipients=[SUPPORT],
                                                         source_id=source_id_for(raw)))
        outcomes[outcome.outcome.value] += 1
        if outcome.outcome.value == "case_opened":
            shared.cases_by_sender[senders_of[n]] = outcome.case_number
        timed("dispatch", dispatcher.drain)
        if outcome.case_id:
            timed("read", lambda case_id=outcome.case_id: api.read_case(case_id))
    gc.callbacks.remove(garbage_collection)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)

    def cost(step) -> float:
        cpu = time.process_time()
        for raw in raws:
            step(raw)
        return (time.process_time() - cpu) / len(raws)

    parsed = {raw: parse_message(raw) for raw in raws}
    settings = deps.settings

    def classify_and_split(raw: bytes) -> None:
        classify(parsed[raw], settings.our_domains, settings.support_addresses)
        split_reply(parsed[raw].text)

    rows = [
        ["parse_message", cost(parse_message), None],
        ["classify + split_reply", cost(classify_and_split), None],
        ["detect_language", cost(lambda raw: detect_language(parsed[raw].text, settings.languages)), None],
    ]
    count = len(raws)
    events = Counter(dispatcher.stats.by_type) - events
    consumers_cpu = sum(spent.values())
    rows += [
        ["ingest (all of it, stored)", cpu_of["ingest"] / count, wall_of["ingest"] / count],
        *[[f"consumer {name}", value / count, None] for name, value in spent.most_common()],
        ["dispatcher itself (stream, markers, checkpoint)", (cpu_of["dispatch"] - consumers_cpu) / count, None],
        ["outbox dispatch, all consumers", cpu_of["dispatch"] / count, wall_of["dispatch"] / count],
        ["GET /cases/{id}?limit=1 (local gateway)", cpu_of["read"] / count, wall_of["read"] / count],
        ["total per message", sum(cpu_of.values()) / count, sum(wall_of.values()) / count],
        ["(garbage collection, included above)", collecting["spent"] / count, None],
    ]

    def ms(value: float | None) -> str:
        return "" if value is None else f"{value * 1000:.2f}"

    print(f"{count} messages: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print("events dispatched: " + ", ".join(f"{k} {v}" for k, v in sorted(events.items())))
    print(markdown_table(["per message", "CPU ms", "wall ms"], [[name, ms(cpu), ms(wall)] for name, cpu, wall in rows]))
    print(load_average())
    api.close()
    shutil.rmtree(scratch, ignore_errors=True)


class _AsgiReader:
    """`GET /cases/{id}?limit=1` straight into the gateway's ASGI app: the server's share of the benchmark's
    poll, without an HTTP client's (which runs in the load generator). As under uvicorn, one event loop runs
    on a thread of its own for the whole run, so the handlers' worker threads are started once and reused."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"127.0.0.1")]
        self.loop = asyncio.new_event_loop()
        self.requests: asyncio.Queue | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="asgi-reader", daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        async def serve() -> None:
            self.requests = asyncio.Queue()
            ready.set()
            while (request := await self.requests.get()) is not None:
                path, query, answer = request
                try:
                    answer.set_result(await self._get(path, query))
                except Exception as exc:
                    answer.set_exception(exc)

        self.loop.run_until_complete(serve())

    def read_case(self, case_id: str) -> None:
        answer: Future[int] = Future()
        self.loop.call_soon_threadsafe(self.requests.put_nowait, (f"/cases/{case_id}", b"limit=1", answer))
        status = answer.result()
        if status != 200:
            raise RuntimeError(f"GET /cases/{case_id} answered {status}")

    async def _get(self, path: str, query: bytes) -> int:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
                 "root_path": "", "headers": self.headers, "client": ("127.0.0.1", 50000),
                 "server": ("127.0.0.1", 8000)}
        status = 0

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        return status

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.requests.put_nowait, None)
        self.thread.join(timeout=10)


def _timed(name: str, handle, spent: Counter[str]):
    def run(deps, event) -> None:
        cpu = time.process_time()
        try:
            handle(deps, event)
        finally:
            spent[name] += time.process_time() - cpu

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--messages", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="200 messages")
    parser.add_argument("--clients", type=int, default=8, help="concurrent SMTP connections")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="caseline dev --workers: serving processes (default: one per core)")
    parser.add_argument("--in-process", action="store_true",
                        help="call ingest, the consumers and the API directly: CPU per message")
    parser.add_argument("--profile", metavar="FILE", help="with --in-process: write a cProfile of the messages")
    parser.add_argument("--keep", action="store_true", help="keep the server's data directory (removed otherwise)")
    args = parser.parse_args()
    total = 200 if args.quick else args.messages
    senders = [f"customer{i}@example.net" for i in range(max(1, total // 10))]
    if args.in_process:
        in_process(total, senders, profile=args.profile)
        return 0

    data_dir = Path(tempfile.mkdtemp(prefix="caseline-mail-bench-")) / "data"
    server = DevServer(data_dir, free_port(), workers=args.workers)
    started = time.perf_counter()
    server.start(timeout=120)
    token = server.token(Role.ADMIN)
    warm_up(server, max(3, 4 * args.workers))  # enough connections to reach every worker
    print(f"caseline dev --workers {args.workers} ready (first messages stored) in "
          f"{time.perf_counter() - started:.1f} s")
    print(machine())
    print(load_average())

    rng = random.Random(7)
    prepared = [prepare(n, senders[n % len(senders)], rng) for n in range(total)]
    shared = Shared()
    samples: list[Sample] = []
    shares = [list(range(i, total, args.clients)) for i in range(args.clients)]
    cpu_before = cpu_seconds(server.process.pid)
    primary_before = cpu_seconds(server.process.pid, children=False)
    each_before = cpu_by_process(server.process.pid)
    client_before = time.process_time()
    begin = time.perf_counter()
    threads = [threading.Thread(target=client, args=(server, token, share, senders, prepared, shared, samples))
               for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    client_cpu = time.process_time() - client_before
    # The consumers (SLA clocks, routing, rules, live updates) run behind ingestion, in caseline dev's primary
    # process; what they still owe is this run's work, so wait for them and count their time and CPU too.
    behind = events_pending(server)
    while events_pending(server):
        time.sleep(0.05)
    catch_up = time.perf_counter() - begin - elapsed
    cpu = cpu_seconds(server.process.pid) - cpu_before
    primary_cpu = cpu_seconds(server.process.pid, children=False) - primary_before
    each = {pid: used - each_before.get(pid, 0.0) for pid, used in cpu_by_process(server.process.pid).items()}
    server.stop()
    wal = data_dir / "caseline.db-wal"
    on_disk = (f"data directory after the run: {size_of(data_dir) / 1e6:.0f} MB, of which the SQLite WAL "
               f"{wal.stat().st_size / 1e6 if wal.exists() else 0:.0f} MB")
    if args.keep:
        on_disk += f" (kept: {data_dir})"
    else:
        shutil.rmtree(data_dir.parent, ignore_errors=True)

    rate = len(samples) / elapsed
    sustained = len(samples) / (elapsed + catch_up)
    accept = [s.accepted - s.sent for s in samples]
    read = [s.readable - s.accepted for s in samples]
    total_latency = [s.readable - s.sent for s in samples]

    def row(name: str, values: list[float]) -> list[str]:
        return [name, *(f"{percentile(values, q) * 1000:.1f}" for q in (50, 95, 99)), f"{max(values) * 1000:.1f}"]

    print()
    print(f"{len(samples)} messages, {args.clients} SMTP connections, {elapsed:.1f} s: {rate:.0f} messages/s "
          f"(goal >= {GOAL_RATE}); the consumers were {behind} events behind and caught up {catch_up:.1f} s later: "
          f"{sustained:.0f} messages/s sustained")
    print(f"server CPU {cpu:.1f} s ({cpu / (elapsed + catch_up):.2f} cores busy on average, "
          f"{cpu / max(len(samples), 1) * 1000:.1f} ms per message); the sending client's own CPU "
          f"{client_cpu:.1f} s ({client_cpu / elapsed:.2f} cores), on the same machine")
    if args.workers > 1:
        per_message = 1000 / max(len(samples), 1)
        print(f"  of which the primary (consumers, timers, checkpoints) {primary_cpu * per_message:.1f} ms and the "
              f"workers (SMTP, ingestion, API reads) {(cpu - primary_cpu) * per_message:.1f} ms per message")
        busy = sorted((used for pid, used in each.items() if pid != server.process.pid and used > 0.05), reverse=True)
        print("  cores each worker used while sending and catching up: "
              + ", ".join(f"{used / (elapsed + catch_up):.2f}" for used in busy))
    print(markdown_table(["latency (ms)", "p50", "p95", "p99", "max"], [
        row("DATA sent → 250 (stored)", accept),
        row("250 → GET /cases/{id} answers", read),
        row("DATA sent → readable through the API", total_latency),
    ]))
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(s.outcome for s in samples).items())))
    print(on_disk)
    p95 = percentile(total_latency, 95)
    met = sustained >= GOAL_RATE and p95 < GOAL_P95
    print(f"goal {'met' if met else 'NOT met'}: {sustained:.0f} messages/s sustained, p95 {p95 * 1000:.0f} ms")
    print(load_average())
    return 0


if __name__ == "__main__":
    sys.exit(main())
