"""`caseline dev --workers N`: the local platform in N worker processes and a primary.

One Python process runs Python on one core at a time, so a single `caseline dev` tops out at one core however
many threads it has. With `--workers N` the process the developer started (the primary) spawns N workers,
each a fresh interpreter. The workers serve HTTP (the API, the SPA, `/ws`) and SMTP. Each binds the HTTP port
with SO_REUSEPORT and the kernel spreads new connections over them; SMTP connections, which relays keep for
many messages, are accepted by the primary and handed to the workers in turn. Each has its own copies of the function
handlers, on the one SQLite file (writers take turns through the adapter's file lock).

The primary serves no requests. It runs what must run once, the outbox dispatcher with every consumer, the
timer runner and the TTL sweep, so their work never holds a serving process's GIL while a request waits;
the operating system shares the cores among the processes instead. A pipe between each worker and the
primary (a `Link`) carries:

- worker -> primary: `ready` once it serves; `wake` after a write, so the dispatcher looks now instead of
  at its next poll, and `timers` after setting a timer, for the timer runner; each business metric it
  records (`metric`), and `metrics` requests: the figures and the dispatcher's counters are kept in the
  primary, so `/metrics` shows the same whichever process answers;
- primary -> worker: `push`, a live update for a WebSocket the worker holds, `metrics` answers, and
  `smtp-connection`, followed by the connection's file descriptor.

The realtime consumer runs in the primary, so a live update reaches a socket through the process that holds
it, as in AWS it reaches one through API Gateway's management API. A connection id names its process:
`w<index>.<random hex>` (index 0, the single process of `--workers 1`, pushes to its own hub).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any

from ..adapters.embedded.websocket_hub import WebSocketHub
from ..ports.connections import Pusher
from ..settings import Settings

READY_TIMEOUT_SECONDS = 120
METRICS_TIMEOUT_SECONDS = 5


def connection_prefix(index: int) -> str:
    """What the ids of the WebSockets that process `index` holds start with (the primary is 0)."""
    return f"w{index}."


def holder_of(connection_id: str) -> int | None:
    """The index of the process that holds a connection, from its id; None for an id of another shape."""
    head, dot, _ = connection_id.partition(".")
    if not dot or not head.startswith("w") or not head[1:].isdigit():
        return None
    return int(head[1:])


class Link:
    """One end of the pipe between the primary and a worker; any thread may send on it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._sending = threading.Lock()

    def send(self, *message: Any) -> bool:
        """False when the other process is gone."""
        try:
            with self._sending:
                self.connection.send(message)
            return True
        except (OSError, ValueError):
            return False

    def receive(self) -> tuple[Any, ...]:
        """The next message; raises EOFError (or OSError) once the other end has closed."""
        return self.connection.recv()

    def send_socket(self, connection: socket.socket, pid: int) -> bool:
        """Pass an accepted connection to the other process (its file descriptor, over the pipe's socket)."""
        try:
            with self._sending:
                self.connection.send(("smtp-connection",))
                reduction.send_handle(self.connection, connection.fileno(), pid)
            return True
        except (OSError, ValueError):
            return False

    def receive_socket(self) -> socket.socket:
        """The connection `send_socket` passed, right after its message was received."""
        return socket.socket(fileno=reduction.recv_handle(self.connection))


class RoutedPusher(Pusher):
    """The primary's pusher: its own sockets through its hub, the others' through the worker holding them."""

    def __init__(self, hub: WebSocketHub) -> None:
        self.hub = hub
        self.forward: Callable[[int, str, bytes], bool] | None = None  # set once the workers run

    def push(self, connection_id: str, payload: bytes) -> bool:
        holder = holder_of(connection_id)
        if not holder or self.forward is None:
            return self.hub.push(connection_id, payload)
        return self.forward(holder, connection_id, payload)


# --- the primary's side ---------------------------------------------------------------------------------------
@dataclass
class _Worker:
    index: int
    process: multiprocessing.process.BaseProcess
    link: Link
    ready: threading.Event = field(default_factory=threading.Event)
    alive: bool = True


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker process needs to start; pickled into it by multiprocessing's spawn."""

    settings: Settings
    index: int
    host: str
    port: int
    smtp: bool  # serve SMTP too (its port was free when the primary started)
    connection: Connection


class Workers:
    """The primary's handle on its workers: starts them, forwards pushes, answers what they ask."""

    def __init__(self, settings: Settings, *, host: str, port: int, count: int, smtp: bool,
                 wake: Callable[[], None], wake_timers: Callable[[], None],
                 record: Callable[[str, float, str], None], metrics: Callable[[], dict[str, Any]]) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.count = count
        self.smtp = smtp
        self.wake = wake
        self.wake_timers = wake_timers
        self.record = record
        self.metrics = metrics
        self._workers: dict[int, _Worker] = {}
        self._stopping = False
        self._smtp_listener: socket.socket | None = None

    def start(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Spawn the workers and wait until each one serves (so load spreads from the first connection)."""
        context = multiprocessing.get_context("spawn")
        for index in range(1, self.count + 1):
            ours, theirs = context.Pipe(duplex=True)
            plan = WorkerPlan(self.settings, index, self.host, self.port, self.smtp, theirs)
            process = context.Process(target=run_worker, args=(plan,), name=f"caseline-worker-{index}",
                                      daemon=True)
            process.start()
            theirs.close()
            worker = _Worker(index, process, Link(ours))
            self._workers[index] = worker
            threading.Thread(target=self._listen, args=(worker,), name=f"worker-{index}-link",
                             daemon=True).start()
        for worker in self._workers.values():
            if not worker.ready.wait(timeout) or not worker.alive:
                self.stop()
                raise RuntimeError(f"worker {worker.index} did not start (exit code {worker.process.exitcode})")

    def running(self) -> bool:
        """Whether any worker still serves."""
        return any(worker.alive and worker.process.is_alive() for worker in self._workers.values())

    def push(self, index: int, connection_id: str, payload: bytes) -> bool:
        worker = self._workers.get(index)
        if worker is None or not worker.alive:
            return False  # its process is gone, and its sockets with it
        return worker.link.send("push", connection_id, payload)

    def _listen(self, worker: _Worker) -> None:
        while True:
            try:
                message = worker.link.receive()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "wake":
                self.wake()
            elif kind == "timers":
                self.wake_timers()
            elif kind == "metric":
                self.record(*message[1:])
            elif kind == "ready":
                worker.ready.set()
            elif kind == "metrics":
                worker.link.send("metrics", message[1], self.metrics())
        worker.alive = False
        worker.ready.set()
        if not self._stopping:
            worker.process.join(5)
            print(f"Caseline worker {worker.index} stopped unexpectedly (exit code {worker.process.exitcode}); "
                  "the other workers go on serving.", flush=True)

    def hand_out_smtp(self, host: str, port: int) -> bool:
        """Bind the SMTP port and hand its connections to the workers (`_hand_out`) until `stop()`; False when
        the port cannot be bound."""
        try:
            listener = socket.create_server((host, port), family=_family(host), backlog=1024)
        except OSError:
            return False
        self._smtp_listener = listener
        threading.Thread(target=self._hand_out, args=(listener,), name="smtp-hand-out", daemon=True).start()
        return True

    def _hand_out(self, listener: socket.socket) -> None:
        """Accept SMTP connections and pass each to the next worker in turn, until `listener` is closed.

        With SO_REUSEPORT the kernel picks a worker by a hash of the addresses, and a relay keeps its
        connections for many messages: 16 connections split 10/6 or worse more often than not, and one
        worker's ingestion ran flat out while the other's idled (bench/email_ingest.py prints the split).
        Taking turns gives each worker the same number of connections.
        """
        turn = itertools.count()
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed: stopping
            with connection:
                serving = [w for w in self._workers.values() if w.alive and w.ready.is_set()]
                for _ in range(len(serving)):
                    worker = serving[next(turn) % len(serving)]
                    if worker.link.send_socket(connection, worker.process.pid or 0):
                        break

    def stop(self, timeout: float = 10) -> None:
        self._stopping = True
        if self._smtp_listener is not None:
            with contextlib.suppress(OSError):
                self._smtp_listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
            self._smtp_listener.close()
        for worker in self._workers.values():
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: uvicorn finishes open requests, then exits
        for worker in self._workers.values():
            worker.process.join(timeout)
            if worker.process.is_alive():
                worker.process.kill()
            worker.link.connection.close()


# --- the worker's side ----------------------------------------------------------------------------------------
class PrimaryLink:
    """A worker's handle on the primary."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self._ids = itertools.count(1)
        self._answers: dict[int, dict[str, Any]] = {}
        self._answered = threading.Condition()

    def wake(self) -> None:
        self.link.send("wake")

    def wake_timers(self) -> None:
        self.link.send("timers")

    def add(self, name: str, value: float, unit: str = "Count") -> None:
        """The metrics port of a worker: every figure goes to the primary's."""
        self.link.send("metric", name, value, unit)

    def metrics(self) -> dict[str, Any]:
        request = next(self._ids)
        self.link.send("metrics", request)
        with self._answered:
            if not self._answered.wait_for(lambda: request in self._answers, METRICS_TIMEOUT_SECONDS):
                raise TimeoutError("the primary process did not answer")
            return self._answers.pop(request)

    def listen(self, hub: WebSocketHub, on_smtp: Callable[[socket.socket], None] | None = None) -> None:
        """Deliver what the primary sends until it goes away; then this worker stops too."""
        while True:
            try:
                message = self.link.receive()
            except (EOFError, OSError):
                # The primary is gone, and with it the consumers and timers: stop serving, as Ctrl-C would.
                os.kill(os.getpid(), signal.SIGTERM)
                return
            if message[0] == "push":
                hub.push(message[1], message[2])
            elif message[0] == "smtp-connection":
                connection = self.link.receive_socket()
                if on_smtp is not None:
                    on_smtp(connection)
                else:
                    connection.close()
            elif message[0] == "metrics":
                with self._answered:
                    self._answers[message[1]] = message[2]
                    self._answered.notify_all()


def run_worker(plan: WorkerPlan) -> None:
    """A worker process's body: the gateway (HTTP + `/ws`) on the shared port and SMTP, nothing else."""
    from .server import serve_worker

    serve_worker(plan, PrimaryLink(Link(plan.connection)))


def port_is_free(host: str, port: int) -> bool:
    """No other program listens on host:port. Checked before binding with SO_REUSEPORT, which would otherwise
    quietly share the port with another `caseline dev` of the same user."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port that the other processes of `caseline dev` may bind too."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
