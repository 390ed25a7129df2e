"""The Marabou worker dies with its parent, even when the parent is killed by SIGKILL (no maraboupy needed)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")

PARENT = textwrap.dedent("""
    import multiprocessing as mp, os, sys, time
    from verify.interop.marabou import die_with_parent

    def child(ppid, guard):
        if guard:
            die_with_parent(ppid)
        time.sleep(60)

    if __name__ == "__main__":
        p = mp.get_context("spawn").Process(target=child, args=(os.getpid(), sys.argv[1] == "1"))
        p.start()
        print(p.pid, flush=True)
        time.sleep(60)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its reaper counts as gone
        return f.read().split()[2] != "Z"


def _orphan_after_parent_kill(tmp_path, guard: bool) -> bool:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    parent = subprocess.Popen([sys.executable, str(script), "1" if guard else "0"], stdout=subprocess.PIPE,
                              text=True, env=env)
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # let the child reach its sleep (and set the guard)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        if not _alive(child):
            return False
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    return True


def test_guarded_worker_dies_with_killed_parent(tmp_path):
    assert not _orphan_after_parent_kill(tmp_path, guard=True)


@pytest.mark.slow  # the control experiment; the guarded worker's test runs by default
def test_unguarded_worker_would_be_orphaned(tmp_path):
    """The control: without the guard the child outlives a SIGKILLed parent, so the test above can fail."""
    assert _orphan_after_parent_kill(tmp_path, guard=False)
