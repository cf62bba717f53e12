"""`caseline dev --workers 2`: two serving processes on one port and a primary running the consumers.

Real HTTP, WebSockets and SMTP against the running server. Which worker takes a new connection is the
kernel's choice, so the tests open connections until both hold some, and check what crosses between the
processes: live updates, the dispatcher's wake-ups and the metrics the primary keeps.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import smtplib
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from caseline.adapters.connections import TableConnectionRegistry
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.runtime.rebalance import REQUESTS_PER_CONNECTION
from caseline.runtime.server import LIVE_CONNECTIONS_FILE
from caseline.runtime.workers import holder_of
from websockets.sync.client import connect

from ..conftest import World, world_on_disk
from ..support.dev_server import CASELINE, DevServer, free_port

WAIT = 15  # seconds to wait for a frame or a count (a guard, not a measurement)
SUPPORT = "support@caseline.localhost"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServer, World]]:
    data_dir = tmp_path_factory.mktemp("workers") / "data"
    world = world_on_disk(data_dir)
    server = DevServer(data_dir, free_port(), workers=2)
    server.start()
    yield server, world
    server.stop()


def _token(server: DevServer, email: str) -> str:
    answer = httpx.post(server.url + "/auth/dev-login", json={"email": email})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def _holders(data_dir: Path) -> dict[str, int]:
    """Which process holds each open staff WebSocket, from the shared connection registry."""
    table = SqliteTable(data_dir / LIVE_CONNECTIONS_FILE)
    try:
        live = TableConnectionRegistry(table, scope="local").live_staff(now=int(time.time()))
    finally:
        table.close()
    return {c.connection_id: holder_of(c.connection_id) for c in live}


def _workers_alive(server: DevServer) -> int:
    assert server.process is not None
    return len([pid for pid in _children(server.process.pid)
                if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()])


def _wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_live_update_reaches_sockets_held_by_either_process(two_workers) -> None:
    server, world = two_workers
    token = _token(server, "ada@caseline.dev")
    with ExitStack() as stack:
        sockets = []
        for attempt in range(80):  # new connections until each worker holds at least one
            if attempt == 40:
                time.sleep(2)  # a worker slow to take its first connections gets a second chance
            ws = stack.enter_context(connect(f"ws://127.0.0.1:{server.port}/ws?token={token}", open_timeout=WAIT))
            ws.send(json.dumps({"action": "ping"}))
            assert json.loads(ws.recv(timeout=WAIT)) == {"type": "pong"}  # registered by now
            sockets.append(ws)
            if set(_holders(server.data_dir).values()) == {1, 2}:
                break
        assert set(_holders(server.data_dir).values()) == {1, 2}, (
            f"every socket went to one worker; workers alive: {_workers_alive(server)}")
        opened = httpx.post(server.url + "/cases", headers={"Authorization": f"Bearer {token}"}, json={
            "channel": "email", "subject": "Seen everywhere", "text": "hello",
            "requester": {"customer_id": world.alice_id}})
        assert opened.status_code == 201, opened.text
        for ws in sockets:
            while True:
                notice = json.loads(ws.recv(timeout=WAIT))
                if notice.get("event_type") == "caseline.case.opened" and notice["case"]["id"] == opened.json()["id"]:
                    break


def test_writes_through_either_process_reach_the_consumers_and_the_primarys_metrics(two_workers) -> None:
    server, world = two_workers
    headers = {"Authorization": f"Bearer {_token(server, 'ada@caseline.dev')}"}

    def opened_so_far() -> int:
        business = httpx.get(server.url + "/metrics").json()["business"]  # a new connection each time
        return int(business.get("CasesOpened", {}).get("count", 0))

    before = opened_so_far()
    for n in range(12):  # each on a new connection, so both processes take some
        answer = httpx.post(server.url + "/cases", headers=headers, json={
            "channel": "web", "subject": f"Spread {n}", "text": "hello",
            "requester": {"customer_id": world.bob_id}})
        assert answer.status_code == 201, answer.text
    _wait_for(lambda: opened_so_far() == before + 12,
              f"the consumers to count 12 new cases ({before} before, {opened_so_far()} now)")
    # whichever process answers, the figures are the primary's
    assert {opened_so_far() for _ in range(8)} == {before + 12}
    outbox = httpx.get(server.url + "/metrics").json()["outbox"]
    assert outbox["dead_lettered"] == 0
    _wait_for(lambda: httpx.get(server.url + "/metrics").json()["outbox"]["pending"] == 0, "the consumers to catch up")


def test_mail_over_several_smtp_connections_becomes_cases(two_workers) -> None:
    server, _ = two_workers
    headers = {"Authorization": f"Bearer {_token(server, 'ada@caseline.dev')}"}
    case_ids = []
    for n in range(8):
        message = EmailMessage()
        message["From"] = f"Sender {n} <sender{n}@example.org>"
        message["To"] = SUPPORT
        message["Subject"] = f"Printer on fire, take {n}"
        message["Message-ID"] = f"<workers-{n}-{time.time_ns()}@example.org>"
        message.set_content("The printer in room 4 is on fire again. Please advise.")
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=WAIT) as smtp:
            smtp.ehlo()
            code, reply = _send(smtp, message)
        assert code == 250, reply
        fields = reply.decode().split()
        assert fields[2] == "case_opened", reply  # "2.0.0 OK case_opened <case id> #<number>"
        case_ids.append(fields[3])
    for case_id in case_ids:
        case = httpx.get(server.url + f"/cases/{case_id}", headers=headers)
        assert case.status_code == 200 and case.json()["case"]["channel"] == "email"


def _send(smtp: smtplib.SMTP, message: EmailMessage) -> tuple[int, bytes]:
    smtp.mail(str(message["From"]).split("<")[1].rstrip(">"))
    smtp.rcpt(SUPPORT)
    return smtp.data(message.as_bytes())


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_primary_stops_every_worker(dev_server: DevServer, stop: signal.Signals) -> None:
    dev_server.workers = 3
    dev_server.start(sigint_ignored=True)  # as a shell's background job: Ctrl-C must work all the same
    assert dev_server.process is not None
    workers = {pid for pid in _children(dev_server.process.pid)
               if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()}
    assert len(workers) == 3
    assert dev_server.stop(stop) == 0
    assert "Caseline stopped." in dev_server.output[-1]
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text()]


def test_workers_stop_when_the_primary_dies(dev_server: DevServer) -> None:
    dev_server.workers = 2
    dev_server.start()
    assert dev_server.process is not None
    workers = {pid for pid in _children(dev_server.process.pid)
               if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()}
    assert len(workers) == 2
    dev_server.process.kill()  # no chance to stop them itself
    dev_server.process.wait()

    def gone() -> bool:
        return not [pid for pid in workers if Path(f"/proc/{pid}").exists()
                    and "zombie" not in Path(f"/proc/{pid}/status").read_text()]

    _wait_for(gone, "the workers to notice and stop")
    with pytest.raises(httpx.TransportError):
        httpx.get(dev_server.url + "/health", timeout=2)



def test_a_long_lived_connection_is_ended_after_its_hundredth_request(two_workers) -> None:
    """So that a client's load can move to the other worker (runtime/rebalance.py)."""
    server, _ = two_workers
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
    try:
        answers = []
        for _ in range(REQUESTS_PER_CONNECTION):
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("connection")))
        assert answers[:-1] == [(200, None)] * (REQUESTS_PER_CONNECTION - 1)
        assert answers[-1] == (200, "close")
        assert connection.sock is None  # http.client closed it, as the server asked
    finally:
        connection.close()


def _smtp_connections_by_process(server: DevServer) -> list[int]:
    """Established connections on the SMTP port that each worker holds (sockets in /proc/<pid>/fd)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == server.smtp_port and fields[3] == "01":
            established.add(fields[9])  # the socket's inode
    assert server.process is not None
    counts = []
    for pid in sorted(_children(server.process.pid)):
        if "spawn_main" not in Path(f"/proc/{pid}/cmdline").read_text():
            continue
        inodes = {link.readlink().name[len("socket:["):-1] for link in Path(f"/proc/{pid}/fd").iterdir()
                  if link.readlink().name.startswith("socket:[")}
        counts.append(len(inodes & established))
    return counts


def test_smtp_connections_are_handed_to_the_workers_in_turn(two_workers) -> None:
    """A relay keeps its connections for many messages; a hash of the addresses split them unevenly."""
    server, _ = two_workers
    with ExitStack() as stack:
        for _ in range(6):
            smtp = stack.enter_context(smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=WAIT))
            assert smtp.ehlo()[0] == 250
        assert _wait_for(lambda: sorted(_smtp_connections_by_process(server)) == [3, 3],
                         "three connections in each worker")

def test_a_busy_port_is_refused_rather_than_shared(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = subprocess.run([*CASELINE, "dev", "--data-dir", str(tmp_path / "data"), "--port", str(port),
                                 "--workers", "2", "--no-seed"], capture_output=True, text=True, timeout=60,
                                env={**os.environ, "CASELINE_SMTP_PORT": str(free_port())})
    assert result.returncode != 0
    assert f"Port {port} is in use" in result.stdout + result.stderr
