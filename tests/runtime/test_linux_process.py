"""cntr_tui.linux's process readers on real processes: NSpid in a PID namespace, a
tracer, a zombie, a pending SIGSTOP, a reduced capability set, a user namespace's id
maps, namespace inodes and pidfds; users and groups of the host's root."""

from __future__ import annotations

import ctypes
import grp
import os
import pwd
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from cntr_tui.linux import (
    capabilities,
    idmaps,
    namespaces,
    pidfd,
    proc_stat,
    proc_status,
    process_status,
    procfs,
    users,
)

# Says its own PID, then waits for its stdin to close.
WAITER = "import os, sys; print(os.getpid(), flush=True); sys.stdin.read()"
PTRACE_TRACEME = 0


@contextmanager
def waiting(command: list[str]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`command` (ending in the waiter) started; yields it and the PID the waiter
    printed (as its own PID namespace numbers it). Ends when the test is done."""
    started = subprocess.Popen(
        [*command, sys.executable, "-c", WAITER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert started.stdout is not None
        yield started, int(started.stdout.readline())
    finally:
        assert started.stdin is not None
        started.stdin.close()
        started.wait(30)


def test_nspid_of_a_process_in_a_pid_namespace() -> None:
    with waiting(["unshare", "--pid", "--fork"]) as (launcher, own_pid):
        (child,) = procfs.children(launcher.pid)
        assert own_pid == 1
        assert proc_status.pid_in_namespace(child) == 1
        status = process_status.status(child)
        assert status.nspids == (child, 1) and status.ppid == launcher.pid
        assert proc_stat.parent_pid(child) == launcher.pid
        assert "pid" in namespaces.namespaces_differing(child)
        assert not namespaces.same_as_ours(child, "pid")
        assert namespaces.same_as_ours(child, "net")
        inode = namespaces.namespace_inode(child, "pid")
        assert inode != namespaces.host_namespace_ids()["pid"]
        assert namespaces.members(inode, "pid") == [child]
    assert proc_status.pid_in_namespace(os.getpid()) == os.getpid()


def traced_child() -> subprocess.Popen[bytes]:
    """A child traced by this process (PTRACE_TRACEME), stopped at its exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    child = subprocess.Popen(
        ["sleep", "600"], preexec_fn=lambda: libc.ptrace(PTRACE_TRACEME, 0, None, None)
    )
    os.waitid(os.P_PID, child.pid, os.WSTOPPED | os.WNOWAIT)  # the SIGTRAP of its exec
    return child


def reap_traced(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL a traced child and reap it (waitpid reports its ptrace stops too, so
    Popen's own poll would take one for an exit status)."""
    os.kill(child.pid, signal.SIGKILL)
    while True:
        _, wait_status = os.waitpid(child.pid, 0)
        if os.WIFEXITED(wait_status) or os.WIFSIGNALED(wait_status):
            child.returncode = os.waitstatus_to_exitcode(wait_status)
            return


def test_tracer_state_and_pending_stop_of_a_traced_process() -> None:
    child = traced_child()
    try:
        assert proc_status.tracer_pid(child.pid) == os.getpid()
        fields = proc_status.status_fields(child.pid)
        assert proc_status.state_of(fields) == "t" and proc_stat.state(child.pid) == "t"
        assert process_status.status(child.pid).tracer_pid == os.getpid()
        assert not proc_status.stop_pending(child.pid)
        os.kill(child.pid, signal.SIGSTOP)  # stays queued while it is stopped by us
        assert proc_status.stop_pending(child.pid)
        assert proc_status.pending_signals(proc_status.status_fields(child.pid)) & (
            1 << (signal.SIGSTOP - 1)
        )
    finally:
        reap_traced(child)
    assert proc_status.tracer_pid(child.pid) is None  # gone


def test_zombie() -> None:
    child = subprocess.Popen(["true"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped
    try:
        assert proc_stat.state(child.pid) == "Z"
        assert proc_status.is_zombie(proc_status.status_fields(child.pid))
        assert not proc_stat.alive(child.pid)
        assert pidfd.wait_gone(child.pid, 0)
    finally:
        child.wait()
    assert not proc_stat.alive(child.pid) and proc_stat.start_ticks(child.pid) is None


def test_capabilities_of_a_reduced_bounding_set() -> None:
    with waiting(["setpriv", "--bounding-set", "-all,+chown,+kill"]) as (_, pid):
        caps = process_status.capabilities(pid)
        assert caps.effective_names == ["chown", "kill"]
        assert caps.effective == caps.bounding == 1 << 0 | 1 << 5
        assert caps.has(0) and not caps.has(capabilities.CAP_SYS_ADMIN)
        with open(f"/proc/{pid}/status") as file:
            (line,) = [line for line in file if line.startswith("CapEff:")]
        assert int(line.split()[1], 16) == caps.effective


def test_id_maps_of_a_user_namespace() -> None:
    with waiting(["unshare", "--user"]) as (started, _):
        for kind in ("uid", "gid"):
            if kind == "gid":
                with open(f"/proc/{started.pid}/setgroups", "w") as file:
                    file.write("deny")
            with open(f"/proc/{started.pid}/{kind}_map", "w") as file:
                file.write("0 100000 65536\n")
        maps = idmaps.id_maps(started.pid)
        assert maps.host_uid(0) == 100000 and maps.host_gid(65535) == 165535
        assert maps.host_uid(65536) is None
        assert idmaps.to_inside(maps.uid, 100042) == 42
        assert "user" in namespaces.namespaces_differing(started.pid)
    own = idmaps.id_maps(os.getpid())
    assert own.host_uid(1234) == 1234, "the host's identity map"


def test_pidfd_waits_for_an_end() -> None:
    child = subprocess.Popen(["sleep", "600"])
    try:
        assert not pidfd.wait_gone(child.pid, 0.01)
        child.kill()
        assert pidfd.wait_gone(child.pid, 30)
    finally:
        child.wait()
    assert pidfd.open_pidfd(child.pid) is None


def test_users_in_a_root_agree_with_the_c_library() -> None:
    """The host's / read as a root: the same answers as pwd and grp give."""
    for entry in pwd.getpwall()[:20]:
        found = users.find_user("/", entry.pw_name)
        assert found is not None
        assert (found.uid, found.gid, found.home, found.shell) == (
            entry.pw_uid,
            entry.pw_gid,
            entry.pw_dir,
            entry.pw_shell,
        )
        members = sorted(g.gr_gid for g in grp.getgrall() if entry.pw_name in g.gr_mem)
        assert sorted(users.supplementary_groups("/", entry.pw_name)) == members
        assert users.user_name(entry.pw_uid) in {e.pw_name for e in pwd.getpwall()}
    assert users.find_user("/", "no-such-user-here") is None
    assert users.user_name(4_000_000_000) == "4000000000"
