"""Checks of one container's main process: what would stop, or change, an attach to it."""

from __future__ import annotations

import contextlib
import os

from cntr_tui.attach.cgroups import cgroup_procs_files
from cntr_tui.attach.container import Container
from cntr_tui.attach.lookup import PAUSED_STATUSES
from cntr_tui.errors import UserError
from cntr_tui.linux.cgroups import frozen_v2
from cntr_tui.linux.idmaps import id_maps
from cntr_tui.linux.namespaces import namespaces_differing
from cntr_tui.linux.proc_status import tracer_pid
from cntr_tui.linux.process_status import SECCOMP_MODES, status
from cntr_tui.linux.procfs import command_line, gone
from cntr_tui.preflight import Check, TargetCheck

MAX_TRACER_COMMAND = 80
PROCESS_STATES = {
    "R": "running",
    "S": "sleeping",
    "D": "in uninterruptible sleep",
    "I": "idle",
    "T": "stopped by a signal",
    "t": "stopped by its tracer",
    "Z": "a zombie (exited)",
    "X": "dead",
}


def unpause_fix(container: Container, cgroup: str | None = None) -> str:
    """The runtime's own way to thaw a container (or the write that thaws `cgroup`)."""
    match container.runtime:
        case "docker" | "podman":
            return f"{container.runtime} unpause {container.name}"
        case "containerd":
            namespace = container.runtime_namespace or "default"
            return f"ctr -n {namespace} task resume {container.id}"
        case "lxc":
            return f"lxc-unfreeze -n {container.name}"
    if cgroup is not None:
        return f"echo 0 > {cgroup}/cgroup.freeze"
    return "thaw its cgroup (echo THAWED > freezer.state, or echo 0 > cgroup.freeze)"


def state(container: Container) -> Check:
    """The runtime's word for it, and the main process's own state in /proc."""
    where = f"{container.runtime} {container.name}, PID {container.pid}"
    if container.status in PAUSED_STATUSES:
        return Check(
            "state",
            "fail",
            f"{where} is paused: its processes are frozen, gdb would wait for them forever",
            unpause_fix(container),
        )
    code = status(container.pid).state
    described = PROCESS_STATES.get(code, code)
    if code in ("Z", "X"):
        return Check("state", "fail", f"{where} is {described}", "restart the container")
    if code == "T":
        return Check(
            "state",
            "warn",
            f"{where} is {described} (SIGSTOP): gdb attaches, but it runs on only once continued",
            f"kill -CONT {container.pid}",
        )
    return Check("state", "ok", f"{where}: {container.status}, main process {described}")


def user_namespace(container: Container) -> Check:
    if "user" not in namespaces_differing(container.pid):
        return Check("user-namespace", "ok", "shares the host's user namespace (its root is root)")
    root = id_maps(container.pid).host_uid(0)
    root_text = "unmapped" if root is None else f"host uid {root}"
    return Check(
        "user-namespace",
        "warn",
        f"in its own user namespace (its root is {root_text}): the session joins it, so "
        "host files show there as owned by nobody, setuid host tools do not work, and a "
        "write as the container's root to a host file fails",
        "nothing to fix for debugging; expect host files owned by nobody inside the session",
    )


def seccomp(container: Container) -> Check:
    mode = status(container.pid).seccomp
    name = SECCOMP_MODES.get(mode, str(mode))
    if mode == 0:
        return Check("seccomp", "ok", "the program runs without seccomp")
    if mode == 1:
        return Check(
            "seccomp",
            "warn",
            "the program is in seccomp strict mode: any system call but read, write and "
            "exit kills it, so a gdb `call` or `print` of a function doing one would",
            "debug it without calling its functions from gdb",
        )
    return Check(
        "seccomp",
        "ok",
        f"the program runs under a seccomp {name}: tracing is not affected, but calls "
        "it forbids fail from a gdb `call` too",
    )


def tracer(container: Container) -> Check:
    pid = tracer_pid(container.pid)
    if pid is None:
        raise gone(container.pid)
    if pid == 0:
        return Check("tracer", "ok", "not traced")
    command = "?"
    with contextlib.suppress(OSError):
        command = command_line(pid)
    if len(command) > MAX_TRACER_COMMAND:
        command = command[: MAX_TRACER_COMMAND - 1] + "…"
    return Check(
        "tracer",
        "fail",
        f"already traced by PID {pid} ({command}): a process has one tracer at a time",
        f"detach that debugger, or end it (kill {pid})",
    )


def freezer(container: Container) -> Check:
    """cgroup v1's freezer.state (what attach itself checks) and v2's cgroup.freeze and
    cgroup.events, in every cgroup of the main process."""
    try:
        directories = [os.path.dirname(path) for path in cgroup_procs_files(container.pid)]
    except UserError as error:  # the v1 freezer says FROZEN or FREEZING
        return Check("freezer", "fail", str(error), unpause_fix(container))
    for directory in directories:
        if frozen_v2(directory):
            return Check(
                "freezer",
                "fail",
                f"cgroup {directory} is frozen (cgroup.freeze): the program cannot run",
                unpause_fix(container, directory),
            )
    return Check("freezer", "ok", "no cgroup of it is frozen")


def symbols(container: Container) -> Check:
    """The main binary's symbols as the debugger's symbol report finds them: embedded,
    or a separate debug file by build-id or debuglink, on the host or in the container."""
    from cntr_tui.gdb.placement import Placement
    from cntr_tui.gdb.symbols import describe_object, executable_in_container

    executable = executable_in_container(container.pid)
    if executable is None:
        return Check(
            "symbols",
            "warn",
            "cannot name the main binary (deleted, or outside the container's root)",
            "gdb still attaches; symbols come only from a file you load (`file PATH`)",
        )
    root = f"/proc/{container.pid}/root"
    placement = Placement(container_root=root, container_root_on_host=root)
    report = describe_object(placement.container_path(executable), placement)
    if report.status == "debug-info":
        source = report.source or "?"
        where = placement.in_container(source)
        if source != "embedded":
            where += " in the container" if where != source else " on the host"
        return Check("symbols", "ok", f"{executable}: debug info ({where})")
    return Check("symbols", "warn", f"{executable}: {report.problem}", report.fix)


CHECKS: tuple[TargetCheck, ...] = (
    ("state", state),
    ("user-namespace", user_namespace),
    ("seccomp", seccomp),
    ("tracer", tracer),
    ("freezer", freezer),
    ("symbols", symbols),
)
