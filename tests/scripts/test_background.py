"""scripts/background.sh: the Procfile's background processes run below the web tier's CPU
priority, in their own session's autogroup as well as by their own nice value."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(ROOT / "scripts" / "background.sh")
AUTOGROUP = Path("/proc/self/autogroup")

# prints "<nice> <autogroup nice or ->" of the process it runs in
REPORT = ("import os, pathlib; p = pathlib.Path('/proc/self/autogroup'); "
          "print(os.nice(0), p.read_text().split()[-1] if p.exists() else '-')")


def run(args, env=None, **kwargs) -> list[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, **kwargs)
    return done.stdout.split()


def test_a_process_in_a_session_of_its_own_runs_niced_and_so_does_its_autogroup():
    nice, group = run([SCRIPT, sys.executable, "-c", REPORT], start_new_session=True)
    assert int(nice) == os.nice(0) + 10
    if AUTOGROUP.exists():  # a kernel with autogroup scheduling: the session's share counts first
        assert group == "10"


def test_started_by_a_session_leader_as_under_honcho():
    """honcho runs each entry as `sh -c "<command>"` in a new session: the script is its child."""
    nice, group = run(["sh", "-c", f"{SCRIPT} {sys.executable} -c \"{REPORT}\"; true"], start_new_session=True)
    assert int(nice) == os.nice(0) + 10
    if AUTOGROUP.exists():
        assert group == "10"


def test_a_shared_session_keeps_its_autogroup(tmp_path):
    """Run deeper inside someone's session (a shell, a test runner), only the process itself is
    niced: the autogroup is the whole session's."""
    if not AUTOGROUP.exists():
        return
    middle = tmp_path / "middle.py"  # a process between the session's leader and the script
    middle.write_text(f"import subprocess\nsubprocess.run([{SCRIPT!r}, 'true'], check=True)\n")
    leader = tmp_path / "leader.py"
    leader.write_text("import pathlib, subprocess, sys\n"
                      f"subprocess.run([sys.executable, {str(middle)!r}], check=True)\n"
                      "print(pathlib.Path('/proc/self/autogroup').read_text().split()[-1])\n")
    assert run([sys.executable, str(leader)], start_new_session=True) == ["0"]


def test_background_nice_zero_turns_it_off():
    nice, group = run([SCRIPT, sys.executable, "-c", REPORT], env={"BACKGROUND_NICE": "0"}, start_new_session=True)
    assert int(nice) == os.nice(0)
    if AUTOGROUP.exists():
        assert group == "0"


def test_the_procfile_runs_celery_in_the_background_and_the_web_tier_in_front():
    entries = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    for name in ("worker", "payments", "beat"):
        assert entries[name].startswith("scripts/background.sh celery "), name
    assert "background.sh" not in entries["web"]
