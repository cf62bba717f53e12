"""A real `caseline dev` process on a free port, as a developer starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from caseline.domain.auth import Role
from caseline.ports.clock import UlidIds
from caseline.runtime.tokens import LocalTokens
from caseline.settings import Settings

CASELINE = [sys.executable, "-m", "caseline.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DevServer:
    data_dir: Path
    port: int
    process: subprocess.Popen | None = None
    output: list[str] = field(default_factory=list)
    smtp_port: int = field(default_factory=lambda: free_port())  # never the shared default 2525
    workers: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, seed: bool = False, timeout: float = 60, sigint_ignored: bool = False) -> None:
        """`sigint_ignored`: start it as a shell starts a background job, with SIGINT ignored."""
        args = [*CASELINE, "dev", "--data-dir", str(self.data_dir), "--port", str(self.port),
                "--workers", str(self.workers)]
        if not seed:
            args.append("--no-seed")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "CASELINE_SMTP_PORT": str(self.smtp_port)}
        ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                        preexec_fn=ignore)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"caseline dev exited early:\n{self.process.stdout.read()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise TimeoutError("caseline dev did not become healthy")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self.output.append(self.process.stdout.read())
        return code

    def token(self, role: Role = Role.ADMIN, caseline_id: str | None = None) -> str:
        tokens = LocalTokens(Settings(data_dir=self.data_dir))
        return tokens.issue(subject=f"test-{role.value}", role=role, caseline_id=caseline_id or UlidIds().new(),
                            name="Test User", email=f"{role.value}@caseline.dev")
