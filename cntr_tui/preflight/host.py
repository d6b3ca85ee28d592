"""Checks of this machine and this process: what every attach needs from the host.

Each takes its inputs as arguments with the real ones as defaults (the Yama file, the
FUSE device, /sys), so that a test can point one at a state the machine is not in.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess

from cntr_tui.linux import process_status
from cntr_tui.linux import syscalls as ns
from cntr_tui.linux.capabilities import CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SYS_PTRACE, Capabilities
from cntr_tui.linux.process_status import SECCOMP_MODES, ProcessStatus
from cntr_tui.preflight import Check, HostCheck

YAMA_PTRACE_SCOPE = "/proc/sys/kernel/yama/ptrace_scope"
DEV_FUSE = "/dev/fuse"
FUSE_DEVICE = (10, 229)  # major, minor of /dev/fuse
PROC_FILESYSTEMS = "/proc/filesystems"
REQUIRED_CAPABILITIES = {
    "CAP_SYS_ADMIN": CAP_SYS_ADMIN,  # namespaces, mounts, FUSE
    "CAP_SYS_PTRACE": CAP_SYS_PTRACE,  # gdb, gdbserver, the guard
    "CAP_SYS_CHROOT": CAP_SYS_CHROOT,  # the session's root
}
VERSION_TIMEOUT = 10.0


def own_status() -> ProcessStatus:
    return process_status.status(os.getpid())


def missing_capabilities(capabilities: Capabilities) -> list[str]:
    return [name for name, bit in REQUIRED_CAPABILITIES.items() if not capabilities.has(bit)]


def privileges(status: ProcessStatus | None = None) -> Check:
    status = status or own_status()
    missing = missing_capabilities(status.capabilities)
    uid = status.uids[1]
    if uid == 0 and not missing:
        return Check("privileges", "ok", "root, with CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_CHROOT")
    if uid != 0:
        lacking = f"; also lacks {', '.join(missing)}" if missing else ""
        return Check(
            "privileges",
            "fail",
            f"running as uid {uid}: attach, exec and gdb need root{lacking}",
            "run it as root (sudo cntr-tui ...)",
        )
    return Check(
        "privileges",
        "fail",
        f"root, but without {', '.join(missing)} in its effective set (a container or "
        "a capability bounding set dropped them)",
        "run cntr-tui on the host as root with every capability (in a container: "
        "--privileged, or --cap-add " + " --cap-add ".join(n[4:] for n in missing) + ")",
    )


def ptrace_scope(path: str = YAMA_PTRACE_SCOPE, capabilities: Capabilities | None = None) -> Check:
    """Yama's ptrace_scope: 0 classic, 1 descendants only (or CAP_SYS_PTRACE), 2 only
    with CAP_SYS_PTRACE, 3 nobody, until the next boot."""
    try:
        with open(path) as file:
            text = file.read().strip()
    except FileNotFoundError:
        return Check("ptrace_scope", "ok", "no Yama in this kernel: only capabilities limit ptrace")
    capabilities = capabilities or own_status().capabilities
    traced = capabilities.has(CAP_SYS_PTRACE)
    if text == "3":
        return Check(
            "ptrace_scope",
            "fail",
            f"{path} is 3: no process may attach to another, root included",
            "it cannot be lowered until a reboot: set kernel.yama.ptrace_scope = 1 in "
            "/etc/sysctl.d/ and reboot",
        )
    if text in ("1", "2") and not traced:
        return Check(
            "ptrace_scope",
            "fail",
            f"{path} is {text}: attaching to a process that is not our child needs "
            "CAP_SYS_PTRACE, which cntr-tui lacks",
            "run it as root with CAP_SYS_PTRACE, or (as root) "
            f"echo 0 > {path}" + (" (1 needs the capability too)" if text == "2" else ""),
        )
    if text in ("0", "1", "2"):
        note = {"0": "classic ptrace rules", "1": "restricted", "2": "admin only"}[text]
        extra = "" if text == "0" else ", and cntr-tui has CAP_SYS_PTRACE"
        return Check("ptrace_scope", "ok", f"{text} ({note}){extra}")
    return Check("ptrace_scope", "warn", f"{path} holds {text!r}, not 0-3")


def fuse(device: str = DEV_FUSE, filesystems: str = PROC_FILESYSTEMS) -> Check:
    """The FUSE device (opened and closed: what each session does) and the fuse file
    system type (the module loaded, or built in)."""
    fix_device = "modprobe fuse (it creates /dev/fuse); in a container, --device /dev/fuse"
    try:
        info = os.stat(device)
    except FileNotFoundError:
        return Check("fuse", "fail", f"{device} does not exist", fix_device)
    if not stat.S_ISCHR(info.st_mode) or (os.major(info.st_rdev), os.minor(info.st_rdev)) != (
        FUSE_DEVICE
    ):
        return Check("fuse", "fail", f"{device} is not the FUSE device (char 10:229)", fix_device)
    try:
        os.close(os.open(device, os.O_RDWR | os.O_CLOEXEC))
    except OSError as error:
        return Check("fuse", "fail", f"cannot open {device}: {error.strerror}", "run it as root")
    with open(filesystems) as file:
        types = {line.split()[-1] for line in file if line.strip()}
    if "fuse" not in types:
        return Check(
            "fuse",
            "fail",
            f"{device} exists but the kernel has no fuse file system type",
            "modprobe fuse",
        )
    return Check("fuse", "ok", f"{device} opens, the fuse file system type is registered")


def mount_api() -> Check:
    """open_tree and fsopen, as every session's set-up calls them (a detached clone
    of the container's tree, a FUSE mount made with fsopen; `--fs mount` clones the
    host's tree too). Neither call here changes a mount: both fds are just closed."""
    calls = (
        ("open_tree", lambda: ns.open_tree(ns.AT_FDCWD, "/", ns.OPEN_TREE_CLOEXEC)),
        ("fsopen", lambda: ns.fsopen("tmpfs")),
    )
    for name, call in calls:
        try:
            os.close(call())
        except OSError as error:
            if error.errno == errno.ENOSYS:
                return Check(
                    "mount-api",
                    "fail",
                    f"the kernel has no {name} (the mount API came in Linux 5.2)",
                    "run cntr-tui on a kernel 5.2 or newer",
                )
            return Check(
                "mount-api",
                "fail",
                f"{name} refused: {os.strerror(error.errno or 0)}",
                "run it as root with CAP_SYS_ADMIN, outside a seccomp filter that blocks "
                "the mount API",
            )
    return Check("mount-api", "ok", "open_tree and fsopen work (--fs fuse and --fs mount)")


def version_line(program: str) -> str:
    """The first line `program --version` prints ("?" when it prints nothing)."""
    result = subprocess.run(
        [program, "--version"],
        capture_output=True,
        text=True,
        timeout=VERSION_TIMEOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "LC_ALL": "C"},
    )
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def gdb() -> Check:
    found = shutil.which("gdb")
    if found is None:
        return Check(
            "gdb", "fail", "no gdb on PATH", "install gdb on the host (apt-get install gdb)"
        )
    return Check("gdb", "ok", f"{found}: {version_line(found)}")


def gdbserver() -> Check:
    from cntr_tui.gdb.gdbserver import find_gdbserver

    files = find_gdbserver()
    if files is None:
        return Check(
            "gdbserver",
            "warn",
            "no usable gdbserver on PATH: gdb traces the program itself, and if gdb dies "
            "the guard can only rescue the program afterwards, not first stop it",
            "install gdbserver on the host (apt-get install gdbserver)",
        )
    return Check("gdbserver", "ok", f"{files.program}: {version_line(files.program)}")


def setsid() -> Check:
    """util-linux's setsid with -f: gdb's bridge to gdbserver forks with it in a
    container that has no /dev/null (gdb/gdbserver.py bridge_target)."""
    found = shutil.which("setsid")
    fix = "install util-linux's setsid on the host (apt-get install util-linux)"
    if found is None:
        return Check("setsid", "warn", "no setsid on PATH", fix)
    result = subprocess.run(
        [found, "--help"], capture_output=True, text=True, timeout=VERSION_TIMEOUT
    )
    if "--fork" not in result.stdout + result.stderr:
        return Check(
            "setsid",
            "warn",
            f"{found} has no -f/--fork (not util-linux's): gdb cannot reach gdbserver in "
            "a container without /dev/null",
            fix,
        )
    return Check("setsid", "ok", f"{found}: {version_line(found)}")


def read_word(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return None


def lsm(sys_root: str = "/sys") -> Check:
    """AppArmor and SELinux as the host runs them."""
    selinux = read_word(f"{sys_root}/fs/selinux/enforce")
    if selinux == "1":
        deny = read_word(f"{sys_root}/fs/selinux/booleans/deny_ptrace")
        if deny is not None and deny.split()[0] == "1":
            return Check(
                "lsm",
                "fail",
                "SELinux is enforcing with deny_ptrace on: no process may be traced",
                "setsebool deny_ptrace off",
            )
        return Check(
            "lsm",
            "warn",
            "SELinux is enforcing: a container's type may refuse ptrace or the session's mounts",
            "if an attach is refused, look for AVC denials (ausearch -m avc -ts recent)",
        )
    apparmor = read_word(f"{sys_root}/module/apparmor/parameters/enabled")
    if apparmor == "Y":
        state = "SELinux permissive, " if selinux == "0" else ""
        return Check(
            "lsm", "ok", f"{state}AppArmor enabled: a container's profile may still refuse ptrace"
        )
    if selinux == "0":
        return Check("lsm", "ok", "SELinux permissive (logs, does not refuse)")
    return Check("lsm", "ok", "no AppArmor or SELinux")


def own_seccomp(status: ProcessStatus | None = None) -> Check:
    """A seccomp filter on cntr-tui itself (run in a container, say) may refuse ptrace,
    setns or the mount API: a bare EPERM later on."""
    status = status or own_status()
    if status.seccomp == 0:
        return Check("own-seccomp", "ok", "cntr-tui runs without a seccomp filter")
    return Check(
        "own-seccomp",
        "warn",
        f"cntr-tui runs under seccomp ({SECCOMP_MODES.get(status.seccomp, status.seccomp)}): "
        "ptrace, setns or mount calls may be refused",
        "run cntr-tui on the host, or its container with --security-opt seccomp=unconfined",
    )


CHECKS: tuple[HostCheck, ...] = (
    ("privileges", privileges),
    ("ptrace_scope", ptrace_scope),
    ("own-seccomp", own_seccomp),
    ("fuse", fuse),
    ("mount-api", mount_api),
    ("gdb", gdb),
    ("gdbserver", gdbserver),
    ("setsid", setsid),
    ("lsm", lsm),
)
