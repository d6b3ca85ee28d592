"""Checks of one container's main process: what would stop, or change, an attach to it."""

from __future__ import annotations

from cntr_tui.attach.container import Container
from cntr_tui.attach.lookup import frozen_cgroup, paused_refusal, unpause_fix
from cntr_tui.linux.idmaps import id_maps
from cntr_tui.linux.namespaces import namespaces_differing
from cntr_tui.linux.process_status import SECCOMP_MODES, status
from cntr_tui.linux.procfs import executable_link, read_text, root_path
from cntr_tui.preflight import Check, TargetCheck
from cntr_tui.preflight.tracer import process_tracer

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


def state(container: Container) -> Check:
    """The runtime's word for it, and the main process's own state in /proc. Paused or
    frozen (by v1 the process shows as D, by v2 as S), the line says what attach, exec
    and gdb refuse it with."""
    where = f"{container.runtime} {container.name}, PID {container.pid}"
    code = status(container.pid).state
    described = PROCESS_STATES.get(code, code)
    if code not in ("Z", "X") and (refusal := paused_refusal(container)) is not None:
        return Check("state", "fail", refusal.reason, refusal.fix)
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
    # "deny": setgroups(2) fails in the namespace (an unprivileged runtime, or
    # unshare --map-root-user, wrote it before the gid map); the attach leaves the
    # groups as they are rather than set them
    setgroups = read_text(container.pid, "setgroups").strip()
    if setgroups == "deny":
        groups = (
            f"setgroups is denied in it (/proc/{container.pid}/setgroups: deny): the attach "
            "cannot set the session's groups, so the session keeps the namespace's groups"
        )
    else:
        groups = "setgroups is allowed in it: the session gets its user's groups"
    return Check(
        "user-namespace",
        "warn",
        f"in its own user namespace (its root is {root_text}; {groups}): the session joins "
        "it, so host files show there as owned by nobody, setuid host tools do not work, "
        "and a write as the container's root to a host file fails",
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
    return process_tracer(container.pid)


def freezer(container: Container) -> Check:
    """cgroup v1's freezer.state (what attach itself checks) and v2's cgroup.freeze and
    cgroup.events, in every cgroup of the main process."""
    frozen = frozen_cgroup(container.pid)
    if frozen is None:
        return Check("freezer", "ok", "no cgroup of it is frozen")
    directory, file = frozen
    return Check(
        "freezer",
        "fail",
        f"cgroup {directory} is frozen ({file}): the program cannot run",
        unpause_fix(container, directory, file),
    )


def symbols(container: Container) -> Check:
    """The main binary's symbols as the debugger's symbol report finds them: embedded,
    or a separate debug file by build-id or debuglink, on the host or in the container."""
    from cntr_tui.gdb.placement import Placement
    from cntr_tui.gdb.symbols import describe_object, executable_in_container

    executable_link(container.pid)  # without ptrace rights: EACCES, said as such
    executable = executable_in_container(container.pid)
    if executable is None:
        return Check(
            "symbols",
            "warn",
            "cannot name the main binary (deleted, or outside the container's root)",
            "gdb still attaches; symbols come only from a file you load (`file PATH`)",
        )
    root = root_path(container.pid)
    placement = Placement(container_root=root, container_root_on_host=root)
    gdb_path = placement.container_path(executable)
    report = describe_object(gdb_path, placement)
    if report.status == "debug-info":
        source = report.source or "?"
        where = placement.in_container(source)
        if source != "embedded":
            where += " in the container" if where != source else " on the host"
        return Check("symbols", "ok", f"{executable}: debug info ({where})")
    problem = report.problem
    if report.status == "dynamic" and is_static(placement.to_host(gdb_path)):
        # "only dynamic symbols" is the report's word for a stripped dynamic binary; a
        # static one has none at all
        looked = (problem or "").partition("; ")[2]
        problem = "stripped static binary: no symbol table, and no dynamic symbols either"
        problem += f"; {looked}" if looked else ""
    return Check("symbols", "warn", f"{executable}: {problem}", report.fix)


def is_static(path: str) -> bool:
    """An ELF file without a dynamic symbol table (statically linked)."""
    from cntr_tui.gdb.elf import read_elf

    info = read_elf(path)
    return info is not None and ".dynsym" not in info.sections


CHECKS: tuple[TargetCheck, ...] = (
    ("state", state),
    ("user-namespace", user_namespace),
    ("seccomp", seccomp),
    ("tracer", tracer),
    ("freezer", freezer),
    ("symbols", symbols),
)
