"""`caseline dev`: the whole platform on 127.0.0.1, in one process or (`--workers N`) several.

API gateway + the same function handlers, Swagger UI, the outbox dispatcher, a TTL sweeper, and data in
a SQLite file under the data directory (seeded with demo data on first start). With several processes, all
serve HTTP and SMTP and only the first runs the dispatcher, timers and sweeper (see `workers.py`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.routing import WebSocketRoute

from .. import bootstrap
from ..adapters.embedded.local_scheduler import RUNNER_IDLE_SECONDS, LocalScheduler, TimerRunner, due_soon
from ..adapters.embedded.memory_metrics import MemoryMetrics
from ..adapters.embedded.outbox_dispatcher import OutboxDispatcher
from ..adapters.embedded.sqlite_table import SqliteTable
from ..adapters.embedded.websocket_hub import WebSocketHub
from ..consumers.registry import local_consumers
from ..domain.auth import Role
from ..ports.scheduler import Timer
from ..settings import AdapterSet, Settings
from .blob_routes import blob_routes
from .gateway import LocalGateway
from .live import LiveSocket
from .mail_routes import mail_routes
from .rebalance import ConnectionRecycler
from .signin import LocalSignIn
from .tokens import TOKEN_LIFETIME_SECONDS, LocalTokens
from .workers import PrimaryLink, RoutedPusher, WorkerPlan, Workers, connection_prefix, port_is_free, shared_socket

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[5]
FUNCTIONS_DIR = REPO_ROOT / "functions"
SPA_DIR = REPO_ROOT / "web" / "agent" / "dist"
PURGE_EVERY_SECONDS = 60
CHECKPOINT_EVERY_SECONDS = 1.0
LIVE_CONNECTIONS_FILE = "live-connections.sqlite3"  # who holds a WebSocket; reset when `caseline dev` starts


@dataclass
class DevLogin:
    name: str
    email: str
    role: Role
    caseline_id: str


@dataclass
class LocalPlatform:
    """Everything `caseline dev` runs, built but not yet serving (tests start it on a free port)."""

    platform: bootstrap.Platform
    tokens: LocalTokens
    dispatcher: OutboxDispatcher
    gateway: LocalGateway
    metrics: MemoryMetrics
    hub: WebSocketHub | None = None
    timers: TimerRunner | None = None  # fires due timers (SLA clocks, rule rechecks, routing)
    pusher: RoutedPusher | None = None

    def wake_timers(self) -> None:
        """A timer was set in another process: look for due ones now."""
        if self.timers is not None:
            self.timers.wake()

    def token_for(self, login: DevLogin) -> str:
        return issue_token(self.tokens, login)

    def start_background(self) -> None:
        self.dispatcher.start()
        if self.timers is not None:
            self.timers.start()
        threading.Thread(target=self._sweep, name="ttl-sweeper", daemon=True).start()
        self.defer_checkpoints()
        threading.Thread(target=self._checkpoint, name="wal-checkpointer", daemon=True).start()

    def defer_checkpoints(self) -> None:
        """No request's commit checkpoints the WAL: the primary's checkpointer thread does, every second."""
        table = self.platform.table
        assert isinstance(table, SqliteTable)
        table.defer_checkpoints()

    def _checkpoint(self) -> None:
        table = self.platform.table
        assert isinstance(table, SqliteTable)
        while True:
            time.sleep(CHECKPOINT_EVERY_SECONDS)
            try:
                table.checkpoint_wal()
            except sqlite3.Error:
                log.exception("WAL checkpoint failed; trying again")

    def _sweep(self) -> None:
        table = self.platform.table
        assert isinstance(table, SqliteTable)
        while True:
            time.sleep(PURGE_EVERY_SECONDS)
            table.purge_expired(int(time.time()))

    def stop(self) -> None:
        if self.timers is not None:
            self.timers.stop()
        self.dispatcher.stop()


def build_local(settings: Settings, *, worker: int = 0, primary: PrimaryLink | None = None) -> LocalPlatform:
    """The platform of `caseline dev`'s primary process, or (`worker` > 0, `primary` given) of a worker.

    A worker's gateway wakes the primary after writes and asks it for the metrics; its timers are fired by
    the primary's runner, which it wakes when it sets one.
    """
    if settings.adapters is not AdapterSet.EMBEDDED:
        raise ValueError("caseline dev runs on the embedded adapters")
    metrics = MemoryMetrics()
    platform = bootstrap.build(settings, metrics=metrics if primary is None else primary)
    bootstrap.use(platform)
    table = platform.table
    assert isinstance(table, SqliteTable)
    hub = WebSocketHub()
    pusher = RoutedPusher(hub)
    live = bootstrap.live_updates(settings, hub=pusher,
                                  table=SqliteTable(Path(settings.data_dir) / LIVE_CONNECTIONS_FILE))
    mail = bootstrap.mail_sender(settings)
    dispatcher = OutboxDispatcher(
        table, platform.deps, local_consumers(live, mail),
        max_attempts=settings.dispatcher_max_attempts,
        archive=Path(settings.data_dir) / "events.jsonl",
    )
    tokens = LocalTokens(settings)
    sign_in = LocalSignIn(lambda: dev_logins(platform), lambda login, lifetime: issue_token(tokens, login, lifetime))
    live_socket = LiveSocket(tokens, live, hub, connection_prefix=connection_prefix(worker))
    local_routes = [*sign_in.routes(), WebSocketRoute("/ws", live_socket.serve)]

    def openapi() -> dict:
        from ..api.openapi import openapi_document

        return openapi_document()

    def swagger() -> str:
        from .swagger import swagger_page

        return swagger_page("/api/openapi.json")

    def metric_page() -> dict:
        if primary is not None:
            return primary.metrics()  # the consumers, and so the counters, run in the primary
        stats = dispatcher.stats
        return {"business": metrics.snapshot(),
                "outbox": {"delivered": stats.delivered, "retried": stats.retried,
                           "dead_lettered": stats.dead_lettered, "pending": dispatcher.pending(),
                           "by_type": stats.by_type}}

    gateway = LocalGateway(
        functions_dir=FUNCTIONS_DIR, tokens=tokens, max_body_bytes=settings.max_body_bytes,
        openapi=openapi, swagger_html=swagger, metrics=metric_page, spa_dir=SPA_DIR,
        on_request_done=dispatcher.notify if primary is None else primary.wake,
        extra_routes=[*blob_routes(platform.deps.blobs), *mail_routes(mail), *local_routes],
        threads=settings.gateway_threads,
    )
    if primary is not None:
        scheduler = platform.deps.scheduler
        assert isinstance(scheduler, LocalScheduler)
        clock = platform.deps.clock

        def wake_primary_runner(timer: Timer) -> None:
            if due_soon(timer, clock, RUNNER_IDLE_SECONDS):
                primary.wake_timers()

        scheduler.wake_on_set(wake_primary_runner)
        return LocalPlatform(platform, tokens, dispatcher, gateway, metrics, hub, None, pusher)
    return LocalPlatform(platform, tokens, dispatcher, gateway, metrics, hub, _timer_runner(platform, dispatcher),
                         pusher)


def _timer_runner(platform: bootstrap.Platform, dispatcher: OutboxDispatcher) -> TimerRunner:
    """Timers persist in the data file; the runner fires those due, then wakes the dispatcher for what they wrote."""
    from .. import timers

    scheduler = platform.deps.scheduler
    assert isinstance(scheduler, LocalScheduler)

    def fire(timer: Timer) -> None:
        timers.dispatch(platform.deps, timer)
        dispatcher.notify()

    return TimerRunner(scheduler, fire, platform.deps.clock)


def serve(settings: Settings, *, host: str, port: int, seed: bool = True, workers: int = 1) -> None:
    """Run `caseline dev` until Ctrl-C / SIGTERM.

    `workers` = 1: everything in this process. More: that many worker processes serve HTTP and SMTP, and
    this one (the primary) runs the dispatcher, the timers and the sweep for them (see `workers.py`).
    """
    if workers > 1 and not port_is_free(host, port):
        # SO_REUSEPORT would quietly share the port with another `caseline dev`; refuse it as a plain bind would.
        raise SystemExit(f"Port {port} is in use; stop the other server or choose another --port.")
    (Path(settings.data_dir) / LIVE_CONNECTIONS_FILE).unlink(missing_ok=True)  # nobody is connected yet
    local = build_local(settings)
    logins = _seed(local) if seed else []
    _install_rules(local)
    if workers > 1:
        _serve_with_workers(local, host, port, workers, logins)
        return
    local.start_background()
    _print_banner(local, host, port, logins)
    from .smtp import start_for_dev

    smtp = start_for_dev(local.platform.deps, local.dispatcher.notify)
    _freeze_startup_objects()
    try:
        _run_http(local, host, port, None)
    finally:
        if smtp is not None:
            smtp.stop()
        local.stop()
        print("Caseline stopped.")


def _serve_with_workers(local: LocalPlatform, host: str, port: int, workers: int, logins: list[DevLogin]) -> None:
    settings = local.platform.settings
    smtp = port_is_free(settings.smtp_host, settings.smtp_port)  # a busy SMTP port: run without, as one process does
    pool = Workers(settings, host=host, port=port, count=workers, smtp=smtp, wake=local.dispatcher.notify,
                   wake_timers=local.wake_timers, record=local.metrics.add, metrics=local.gateway.metrics)
    # Ctrl-C and SIGTERM both stop it, even when started with SIGINT ignored (as a shell's background job is).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        pool.start()
        smtp = smtp and pool.hand_out_smtp(settings.smtp_host, settings.smtp_port)
        assert local.pusher is not None
        local.pusher.forward = pool.push
        local.start_background()
        _print_banner(local, host, port, logins, workers)
        if smtp:
            addresses = ", ".join(settings.support_addresses)
            print(f"  SMTP (inbound)    smtp://{settings.smtp_host}:{settings.smtp_port}  accepting mail for "
                  f"{addresses}")
        else:
            print(f"  SMTP              not started: {settings.smtp_host}:{settings.smtp_port} is in use; "
                  "set CASELINE_SMTP_PORT")
        while pool.running():
            time.sleep(0.5)
        print("Every worker process has stopped.")
    except KeyboardInterrupt:
        pass
    finally:
        pool.stop()
        local.stop()
        print("Caseline stopped.")


def serve_worker(plan: WorkerPlan, primary: PrimaryLink) -> None:
    """A worker process of `caseline dev --workers N`: HTTP and SMTP on the shared ports, until told to stop."""
    local = build_local(plan.settings, worker=plan.index, primary=primary)
    local.defer_checkpoints()
    assert local.hub is not None
    from .smtp import start_for_dev

    smtp = start_for_dev(local.platform.deps, primary.wake, handed=True, quiet=True) if plan.smtp else None
    threading.Thread(target=primary.listen, args=(local.hub, smtp.adopt if smtp is not None else None),
                     name="primary-link", daemon=True).start()
    listener = shared_socket(plan.host, plan.port)
    _freeze_startup_objects()
    primary.link.send("ready", plan.index)
    # Ctrl-C reaches every process of the terminal's group; each worker finishes its requests and exits.
    try:
        _run_http(local, plan.host, plan.port, listener)
    finally:
        if smtp is not None:
            smtp.stop()


def _freeze_startup_objects() -> None:
    """Hide what start-up built from the garbage collector: it lives as long as the process anyway.

    Modules, pydantic schemas, handlers and routes are about 140,000 objects, and a full collection walked
    them all, 75-130 ms on a 2-core machine, paid by whichever request's allocation set it off. Frozen, they
    are never walked, and a full collection costs what the requests themselves left behind.
    """
    gc.collect()
    gc.freeze()


def _run_http(local: LocalPlatform, host: str, port: int, listener: socket.socket | None) -> None:
    app: Any = local.gateway.app()
    if listener is not None:  # a worker on a shared port: let long-lived connections move between workers
        app = ConnectionRecycler(app)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    # uvicorn finishes open requests on Ctrl-C / SIGTERM, then re-raises the signal it caught through the
    # handler that was there before; make SIGTERM end as quietly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[listener] if listener is not None else None)


def issue_token(tokens: LocalTokens, login: DevLogin, lifetime: int = TOKEN_LIFETIME_SECONDS) -> str:
    return tokens.issue(subject=f"local|{login.email}", role=login.role, caseline_id=login.caseline_id,
                        name=login.name, email=login.email, lifetime=lifetime)


def dev_logins(platform: bootstrap.Platform, *, customers: int = 3) -> list[DevLogin]:
    """Every staff member and the first few customers with an email: the people `caseline dev` signs in."""
    store = platform.deps.store
    logins = [DevLogin(a.name, a.email, a.role, a.id) for a in store.list_agents(limit=200, cursor=None).items]
    for customer in store.list_customers(limit=50, cursor=None).items:
        if not customer.primary_email:
            continue
        logins.append(DevLogin(customer.name, customer.primary_email, Role.CUSTOMER, customer.id))
        customers -= 1
        if customers == 0:
            break
    return logins


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _install_rules(local: LocalPlatform) -> None:
    """The shipped automation rules, on first start (after the demo data, which they leave as it was seeded)."""
    from ..services.rules import install_defaults

    installed = install_defaults(local.platform.deps)
    if installed:
        print(f"Installed {installed} default automation rules (see /rules).")


def _install_sla_defaults(local: LocalPlatform) -> None:
    """The 24x7 and business-hours SLA policies and an office-hours calendar per team, on first start."""
    from ..services.sla_config import install_defaults

    if install_defaults(local.platform.deps):
        print("Installed the default SLA policies and team calendars (see /sla-policies).")


def _seed(local: LocalPlatform) -> list[DevLogin]:
    from .seed import is_seeded, seed_demo

    if not is_seeded(local.platform):
        started = time.perf_counter()
        seed_demo(local.platform)
        print(f"Seeded demo data in {time.perf_counter() - started:.1f} s.")
        _install_sla_defaults(local)  # before the drain: the demo cases get their teams' calendars
        local.dispatcher.drain()
    _install_sla_defaults(local)
    return dev_logins(local.platform)


def _print_banner(local: LocalPlatform, host: str, port: int, logins: list[DevLogin], workers: int = 1) -> None:
    base = f"http://{host}:{port}"
    processes = f" ({workers} worker processes, and this one for events and timers)" if workers > 1 else ""
    print(f"Caseline is running at {base}{processes}")
    print(f"  Agent workspace   {base}/")
    print(f"  API docs          {base}/api/docs")
    print(f"  Health / metrics  {base}/health  {base}/metrics")
    if local.platform.settings.mail_sender in (None, "maildir"):
        print(f"  Sent mail         {base}/mail/outbox")
    print(f"  Data directory    {Path(local.platform.settings.data_dir).resolve()}")
    if logins:
        print("Dev logins (Authorization: Bearer <token>):")
        for login in logins:
            print(f"  {login.role.value:<10} {login.email:<32} {local.token_for(login)}")
    print("Press Ctrl-C to stop.")
