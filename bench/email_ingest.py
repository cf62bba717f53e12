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
   server process used; and the machine and its load, since the load generator shares it.
Goal: >= 200 messages/s on 2 cores with p95 (DATA → readable) under 1 s.

`--in-process` skips SMTP and HTTP: it calls `ingest` on the same messages in one thread over a platform in a
scratch directory and prints the CPU and wall time per message, and the CPU of its steps (parse, classify
and split, language detection), which is what one server process can spend per message.
"""

from __future__ import annotations

import argparse
import os
import random
import smtplib
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import httpx
from _common import load_average, machine, markdown_table, percentile
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


def message(n: int, sender: str, shared: Shared, rng: random.Random) -> bytes:
    language = rng.choice(list(SENTENCES))
    msg = EmailMessage()
    msg["From"] = f"Customer {n % 997} <{sender}>"
    msg["To"] = SUPPORT
    subject = f"Order {100000 + n} arrived damaged"
    with shared.lock:
        earlier = shared.cases_by_sender.get(sender)
    if earlier and rng.random() < 0.2:
        subject = f"Re: {subject} [#{earlier}]"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<bench-{n}-{rng.getrandbits(48):x}@example.net>"
    body = "Hello,\n\n" + " ".join([SENTENCES[language]] * rng.randint(2, 8)) + "\n\nThanks,\nA customer\n"
    msg.set_content(body)
    if rng.random() < 0.3:
        msg.add_alternative(f"<p>{body}</p>", subtype="html")
    if rng.random() < 0.1:
        msg.add_attachment(PNG, maintype="image", subtype="png", filename=f"photo-{n}.png")
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def client(server: DevServer, token: str, jobs: list[int], senders: list[str], shared: Shared,
           samples: list[Sample], seed: int) -> None:
    rng = random.Random(seed)
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    smtp = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=120)
    smtp.ehlo("bench.example.net")
    try:
        for n in jobs:
            sender = senders[n % len(senders)]
            raw = message(n, sender, shared, rng)
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
                readable = wait_readable(api, target)
                if outcome == "case_opened":
                    with shared.lock:
                        shared.cases_by_sender[sender] = int(words[4].lstrip("#"))
            samples.append(Sample(sent, accepted, readable, outcome))
    finally:
        smtp.quit()
        api.close()


def wait_readable(api: httpx.Client, case_id: str) -> float:
    while True:
        response = api.get(f"/cases/{case_id}", params={"limit": 1})
        if response.status_code == 200:
            return time.perf_counter()
        time.sleep(0.005)


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


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def in_process(total: int, senders: list[str]) -> None:
    from caseline import bootstrap
    from caseline.mail import detect_language, parse_message, split_reply
    from caseline.mail.classify import classify
    from caseline.services.inbound_mail import ingest, source_id_for
    from caseline.settings import Settings

    platform = bootstrap.build(Settings(data_dir=Path(tempfile.mkdtemp(prefix="caseline-mail-bench-")) / "data"))
    deps = platform.deps
    rng = random.Random(7)
    shared = Shared()
    raws = [message(n, senders[n % len(senders)], shared, rng) for n in range(total)]
    ingest(deps, raws[0], recipients=[SUPPORT], source_id="warm-up")  # loads the language models
    print(machine())
    print(load_average())

    def cost(step) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        for raw in raws[1:]:
            step(raw)
        count = len(raws) - 1
        return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count

    parsed = {raw: parse_message(raw) for raw in raws}
    settings = deps.settings

    def classify_and_split(raw: bytes) -> None:
        classify(parsed[raw], settings.our_domains, settings.support_addresses)
        split_reply(parsed[raw].text)

    rows = [
        ["parse_message", *cost(parse_message)],
        ["classify + split_reply", *cost(classify_and_split)],
        ["detect_language", *cost(lambda raw: detect_language(parsed[raw].text, settings.languages))],
        ["ingest (all of it, stored)", *cost(lambda raw: ingest(deps, raw, recipients=[SUPPORT],
                                                                source_id=source_id_for(raw)))],
    ]
    print(markdown_table(["per message", "CPU ms", "wall ms"],
                         [[name, f"{cpu * 1000:.2f}", f"{wall * 1000:.2f}"] for name, cpu, wall in rows]))
    print(load_average())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--messages", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="200 messages")
    parser.add_argument("--clients", type=int, default=8, help="concurrent SMTP connections")
    parser.add_argument("--in-process", action="store_true", help="call ingest directly: cost per message")
    args = parser.parse_args()
    total = 200 if args.quick else args.messages
    senders = [f"customer{i}@example.net" for i in range(max(1, total // 10))]
    if args.in_process:
        in_process(total, senders)
        return 0

    data_dir = Path(tempfile.mkdtemp(prefix="caseline-mail-bench-")) / "data"
    server = DevServer(data_dir, free_port())
    started = time.perf_counter()
    server.start(timeout=120)
    token = server.token(Role.ADMIN)
    warm_up(server, 3)
    print(f"caseline dev ready (first messages stored) in {time.perf_counter() - started:.1f} s")
    print(machine())
    print(load_average())

    shared = Shared()
    samples: list[Sample] = []
    shares = [list(range(i, total, args.clients)) for i in range(args.clients)]
    cpu_before = server_cpu_seconds(server.process.pid)
    begin = time.perf_counter()
    threads = [threading.Thread(target=client, args=(server, token, share, senders, shared, samples, i))
               for i, share in enumerate(shares)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    cpu = server_cpu_seconds(server.process.pid) - cpu_before
    server.stop()

    rate = len(samples) / elapsed
    accept = [s.accepted - s.sent for s in samples]
    read = [s.readable - s.accepted for s in samples]
    total_latency = [s.readable - s.sent for s in samples]

    def row(name: str, values: list[float]) -> list[str]:
        return [name, *(f"{percentile(values, q) * 1000:.1f}" for q in (50, 95, 99)), f"{max(values) * 1000:.1f}"]

    print()
    print(f"{len(samples)} messages, {args.clients} SMTP connections, {elapsed:.1f} s: {rate:.0f} messages/s "
          f"(goal >= {GOAL_RATE}); server CPU {cpu:.1f} s ({cpu / elapsed:.2f} cores busy on average)")
    print(markdown_table(["latency (ms)", "p50", "p95", "p99", "max"], [
        row("DATA sent → 250 (stored)", accept),
        row("250 → GET /cases/{id} answers", read),
        row("DATA sent → readable through the API", total_latency),
    ]))
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(s.outcome for s in samples).items())))
    p95 = percentile(total_latency, 95)
    met = rate >= GOAL_RATE and p95 < GOAL_P95
    print(f"goal {'met' if met else 'NOT met'}: {rate:.0f} messages/s, p95 {p95 * 1000:.0f} ms")
    print(load_average())
    return 0


if __name__ == "__main__":
    sys.exit(main())
