"""Start the real programs (Celery worker, the uWSGI web server) as child processes against the test
database, wait until they answer, and stop or kill them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE") or "config.settings.test",
        DATABASE_URL=test_database_url(),
        EVENTBUS_EXTRA_HANDLER_MODULES="tests.eventbus.probe_handlers",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Child:
    def __init__(self, args: list[str], env: dict[str, str], log_name: str):
        log_dir = ROOT / ".data" / "test-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{log_name}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean shutdown, messages in flight are lost."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start_worker(name: str, *, queues: str = "eventbus,probe,members", concurrency: int = 2,
                 beat: bool = True, **env: str) -> Child:
    args = [str(BIN / "celery"), "-A", "config", "worker", "-Q", queues, "-c", str(concurrency),
            "-n", f"{name}@%h", "-l", "info", "--without-gossip", "--without-mingle"]
    if beat:
        args += ["-B", "-s", str(ROOT / ".data" / f"test-beat-{name}")]
    child = Child(args, child_env(**env), f"worker-{name}")
    return child


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(port: int, **env: str) -> Child:
    args = [str(BIN / "uwsgi"), "--ini", str(ROOT / "config" / "uwsgi.ini"), "--http-socket", f"127.0.0.1:{port}",
            "--processes", "2"]
    child = Child(args, child_env(**env), "web")

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            assert child.alive(), child.tail()
            return False

    wait_until(answers, timeout=30, what="the web server to listen")
    return child
