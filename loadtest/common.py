"""Small helpers the benchmark scripts share."""
from __future__ import annotations

import socket
import sys
from pathlib import Path


def percentile(values, q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``; NaN when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_server_argv(port: int, processes: int) -> list[str]:
    """The Procfile's web command (uWSGI with config/uwsgi.ini) on 127.0.0.1:``port``."""
    root = Path(__file__).resolve().parents[1]
    return [str(Path(sys.executable).parent / "uwsgi"), "--ini", str(root / "config" / "uwsgi.ini"),
            "--http-socket", f"127.0.0.1:{port}", "--processes", str(processes)]
