"""Remove containers left behind by an interrupted test run (a killed pytest skips its
fixtures' teardown): every container, of every runtime, whose name has the prefix, the
throwaway copies of the root file system they ran on, and the tests' ftrace instances.

    python -m cntr_tui.demo.sweep [PREFIX]      (default: cntr-test-)

A command of its own (run by scripts/test.sh and by hand, in the host's namespaces),
not a process cntr-tui starts: hence no `_process` in its name, which the scripts and
the team's notes use as it is.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

from cntr_tui.demo.containers import (
    CONTAINERD_SOCKET,
    K8S_NAMESPACE,
    LXC_DIR,
    quiet,
    remove_containerd,
    remove_lxc,
    remove_roots,
)
from cntr_tui.linux.procfs import pids, read_bytes

FTRACE_INSTANCES = "/sys/kernel/tracing/instances"


def lines(*command: str) -> list[str]:
    if shutil.which(command[0]) is None:
        return []
    result = subprocess.run(command, capture_output=True, text=True)
    return result.stdout.split() if result.returncode == 0 else []


def sweep(prefix: str) -> list[str]:
    removed: list[str] = []
    for tool in ("docker", "podman"):
        for name in lines(tool, "ps", "-a", "--format", "{{.Names}}"):
            if name.startswith(prefix):
                quiet(tool, "rm", "-f", name)
                removed.append(f"{tool}:{name}")
    ctr = ("ctr", "--address", CONTAINERD_SOCKET, "-n", K8S_NAMESPACE)
    for name in lines(*ctr, "containers", "ls", "-q"):
        if name.startswith(prefix):
            remove_containerd(ctr, name)
            removed.append(f"containerd:{name}")
    if LXC_DIR.is_dir():
        for name in os.listdir(LXC_DIR):
            if name.startswith(prefix):
                remove_lxc(name)
                removed.append(f"lxc:{name}")
    # nspawn and plain-namespace containers: processes whose command line names them.
    for pid in pids():
        try:
            argv = read_bytes(pid, "cmdline").split(b"\0")
        except OSError:
            continue
        if argv[0].rsplit(b"/", 1)[-1] in (b"systemd-nspawn", b"unshare") and any(
            arg.startswith(prefix.encode()) for arg in argv
        ):
            os.kill(pid, signal.SIGKILL)
            removed.append(f"process:{pid}")
    # the roots they ran on, unless the process that made one still lives (and will)
    removed += [f"root:{folder}" for folder in remove_roots(prefix)]
    removed += [f"ftrace instance:{name}" for name in remove_ftrace_instances(prefix)]
    return removed


def remove_ftrace_instances(prefix: str) -> list[str]:
    """A test's signal trace left by a killed run (rmdir removes an instance whole)."""
    try:
        names = [n for n in os.listdir(FTRACE_INSTANCES) if n.startswith(prefix)]
    except OSError:
        return []
    removed = []
    for name in names:
        try:
            os.rmdir(os.path.join(FTRACE_INSTANCES, name))
        except OSError:
            continue
        removed.append(name)
    return removed


def main() -> int:
    prefix = sys.argv[1] if len(sys.argv) > 1 else "cntr-test-"
    for what in sweep(prefix):
        print(f"removed leftover {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
