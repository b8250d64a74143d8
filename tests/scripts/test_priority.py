"""scripts/priority.sh and scripts/background.sh: the Procfile's web tier runs above the default CPU
priority (where it may) and its background processes below it, in their own session's autogroup
as well as by their own nice value."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(ROOT / "scripts" / "background.sh")
PRIORITY = str(ROOT / "scripts" / "priority.sh")
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
    assert entries["web"].startswith("scripts/priority.sh ${WEB_NICE:--10} uwsgi ")


def privileged() -> bool:
    return os.geteuid() == 0


def test_a_privileged_process_raises_the_priority_of_itself_and_its_autogroup():
    """As root (CI, `make up` as root) the value is taken; run unprivileged, the test checks the
    documented fallback instead: the default priority."""
    expected = -5 if privileged() else 0
    nice, group = run([PRIORITY, "-5", sys.executable, "-c", REPORT], start_new_session=True)
    assert int(nice) == os.nice(0) + expected
    if AUTOGROUP.exists():
        assert group == str(expected)


def test_an_unprivileged_process_runs_at_the_default_priority_and_says_why():
    """Without root (or CAP_SYS_NICE) a negative value is refused by the kernel: the command still
    runs, at the priority it had, with a note on stderr."""
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"] if privileged() else []
    # nobody may not read the checkout or this Python: the script comes on stdin, the report is sh's
    report = 'echo "$(nice) $(sed "s/.* //" /proc/self/autogroup 2>/dev/null || echo -)"'
    with open(PRIORITY) as script:
        done = subprocess.run([*drop, "sh", "-s", "--", "-5", "sh", "-c", report], stdin=script,
                              capture_output=True, text=True, timeout=30, check=True, cwd="/", start_new_session=True)
    nice, group = done.stdout.split()
    assert int(nice) == os.nice(0)
    if AUTOGROUP.exists():
        assert group == "0"
    assert "not allowed to raise the priority to -5" in done.stderr


def test_nice_values_out_of_range_are_refused_before_anything_runs(tmp_path):
    marker = tmp_path / "ran"
    for value in ("20", "-21", "ten", ""):
        done = subprocess.run([PRIORITY, value, "touch", str(marker)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, value
        assert "-20..19" in done.stderr, value
    done = subprocess.run([PRIORITY, "5"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "usage" in done.stderr
    assert not marker.exists()
