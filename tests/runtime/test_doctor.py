"""`cntr-tui doctor`: each check made to fail for real (a paused container, a traced
process, PATH without gdbserver, dropped capabilities, a stripped binary, a hidden
/dev/fuse), and the TUI's attach-failure dialog showing the failed lines.

Where the machine cannot be put in the state (this kernel has no Yama; the fuse
module cannot be unloaded under a running test bed; no LSM is loaded), the check
function is pointed at a file holding that state, and the test says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach.container import Container
from cntr_tui.attach.discovery import process_container
from cntr_tui.attach.lookup import resolve
from cntr_tui.demo import containers
from cntr_tui.linux import capabilities as linux_capabilities
from cntr_tui.linux import process_status
from cntr_tui.linux.cgroups import cgroup_mounts
from cntr_tui.preflight import Check, host, run_checks, target
from tests.support.runtimes import TEST_PREFIX, StartContainer, require_runtime

CLI = [sys.executable, "-m", "cntr_tui.cli"]
HOST_CHECKS = [name for name, _ in host.CHECKS]
TARGET_CHECKS = [name for name, _ in target.CHECKS]
PTRACE_SEIZE = 0x4206
# Seizes the PID it is given (the tracee keeps running), says so, then holds on until
# its stdin closes: TracerPid names it for as long as it lives.
PTRACE_HOLDER = (
    "import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); "
    f"r = libc.ptrace({PTRACE_SEIZE}, int(sys.argv[1]), 0, 0); "
    "print(r, ctypes.get_errno(), flush=True); sys.stdin.read()"
)
# Runs its arguments under a seccomp filter that allows every call: Seccomp: 2.
SECCOMP_WRAPPER = r"""
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(int argc, char **argv) {
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog program = {1, allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return 110;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program)) return 111;
    execv(argv[1], argv + 1);
    return 112;
}
"""
# Enters seccomp strict mode, says so, then blocks in read() (allowed) until killed.
SECCOMP_STRICT = r"""
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    char byte;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)) return 111;
    write(1, "ready\n", 6);
    read(0, &byte, 1);
    syscall(SYS_exit, 0);
}
"""


def doctor(*args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()):
    return subprocess.run(
        [*prefix, *CLI, "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def doctor_json(*args: str, **kwargs) -> tuple[int, dict[str, dict[str, str | None]]]:
    result = doctor("--json", *args, **kwargs)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, {entry["check"]: entry for entry in json.loads(result.stdout)}


@contextlib.contextmanager
def traced_by_holder(pid: int) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", PTRACE_HOLDER, str(pid)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().split() == ["0", "0"]  # PTRACE_SEIZE succeeded
        yield holder
    finally:
        holder.kill()
        holder.wait()


def compile_c(source: str, directory: Path, name: str) -> Path:
    (directory / f"{name}.c").write_text(source)
    binary = directory / name
    subprocess.run(["gcc", "-O1", "-o", str(binary), str(directory / f"{name}.c")], check=True)
    return binary


@pytest.fixture
def rootfs_copy(demo_rootfs: Path, tmp_path: Path) -> Path:
    """A throwaway copy of the demo root (the cached one is never changed)."""
    root = tmp_path / "root"
    root.mkdir()
    containers.copy_rootfs(demo_rootfs, root)
    return root


@contextlib.contextmanager
def process_container_on(root: Path) -> Iterator[containers.StartedContainer]:
    started = containers.start_process(f"{TEST_PREFIX}doctor-{uuid.uuid4().hex[:8]}", root)
    try:
        yield started
    finally:
        started.remove()


# --- the command as a script uses it ------------------------------------------------


def test_json_has_every_check_with_its_fields_and_the_exit_status_follows_it() -> None:
    result = doctor("--json")
    entries = json.loads(result.stdout)
    assert [entry["check"] for entry in entries] == HOST_CHECKS
    for entry in entries:
        assert set(entry) == {"check", "status", "detail", "fix"}
        assert entry["status"] in ("ok", "warn", "fail")
        assert entry["detail"]
        assert entry["fix"] is None or entry["status"] != "ok"
    any_fail = any(entry["status"] == "fail" for entry in entries)
    assert result.returncode == (1 if any_fail else 0)


def test_lines_are_one_per_check_with_the_fix(tmp_path: Path) -> None:
    # PATH without gdb: one fail (and its fix) on gdb's own line, exit status 1
    (tmp_path / "setsid").symlink_to("/usr/bin/setsid")
    result = doctor(env={**os.environ, "PATH": str(tmp_path)})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == HOST_CHECKS
    gdb_line = next(line for line in lines if line.split()[1] == "gdb")
    assert gdb_line.startswith("fail") and "(fix: install gdb" in gdb_line


def test_a_word_naming_no_container_prints_the_host_checks_and_one_error_line() -> None:
    word = f"{TEST_PREFIX}no-such-container-{uuid.uuid4().hex[:8]}"
    result = doctor(word)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [*HOST_CHECKS, "lookup"]
    assert lines[-1].startswith("fail") and f"no container matches {word!r}" in lines[-1]
    errors = result.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("cntr-tui: "), result.stderr
    code, checks = doctor_json(word)
    assert code == 1 and list(checks) == [*HOST_CHECKS, "lookup"]
    assert checks["lookup"]["status"] == "fail"


# --- host checks ----------------------------------------------------------------------


def test_missing_gdbserver_on_path_is_a_warning_with_the_fix(tmp_path: Path) -> None:
    for tool in ("gdb", "setsid"):
        (tmp_path / tool).symlink_to(f"/usr/bin/{tool}")
    _, checks = doctor_json(env={**os.environ, "PATH": str(tmp_path)})
    assert checks["gdbserver"]["status"] == "warn"
    assert "apt-get install gdbserver" in str(checks["gdbserver"]["fix"])
    assert checks["gdb"]["status"] == "ok" and "GNU gdb" in str(checks["gdb"]["detail"])
    assert checks["setsid"]["status"] == "ok"
    # with the machine's PATH the same check finds it and names its version
    assert doctor_json()[1]["gdbserver"]["status"] == "ok"


def test_a_setsid_without_fork_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "setsid").symlink_to("/bin/busybox")  # busybox's setsid has no -f
    _, checks = doctor_json(env={**os.environ, "PATH": str(tmp_path)})
    assert checks["setsid"]["status"] == "warn"
    assert "--fork" in str(checks["setsid"]["detail"])


def test_dropped_capabilities_fail_privileges_and_the_mount_api() -> None:
    # root still, but with the three capabilities out of the bounding set before exec
    dropped = ("setpriv", "--bounding-set", "-sys_admin,-sys_ptrace,-sys_chroot", "--")
    result = doctor("--json", prefix=dropped)
    checks = {entry["check"]: entry for entry in json.loads(result.stdout)}
    assert result.returncode == 1
    privileges = checks["privileges"]
    assert privileges["status"] == "fail"
    for name in ("CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_CHROOT"):
        assert name in str(privileges["detail"])
    assert checks["mount-api"]["status"] == "fail"
    assert "fsopen refused: Operation not permitted" in str(checks["mount-api"]["detail"])


def test_a_non_root_user_fails_privileges_fuse_and_the_mount_api() -> None:
    assert host.privileges(process_status.status(os.getpid())).status == "ok"  # we are root
    no_root = ("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--")
    result = doctor("--json", prefix=no_root)
    unusable = ("Permission denied", "PermissionError", "ModuleNotFoundError")
    if not result.stdout and any(word in result.stderr for word in unusable):
        pytest.skip(f"uid 65534 cannot run this checkout: {result.stderr.strip()[-200:]}")
    checks = {entry["check"]: entry for entry in json.loads(result.stdout)}
    assert result.returncode == 1
    assert checks["privileges"]["status"] == "fail"
    assert "uid 65534" in str(checks["privileges"]["detail"])
    assert checks["fuse"]["detail"] == "cannot open /dev/fuse: Permission denied"
    assert checks["mount-api"]["status"] == "fail"


NO_ROOT = ("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--")
NO_PTRACE = ("setpriv", "--bounding-set", "-sys_ptrace", "--")


def doctor_as(prefix: tuple[str, ...], *args: str) -> tuple[int, dict, str]:
    result = doctor("--json", *args, prefix=prefix)
    unusable = ("Permission denied", "PermissionError", "ModuleNotFoundError")
    if not result.stdout and any(word in result.stderr for word in unusable):
        pytest.skip(f"{prefix[:3]} cannot run this checkout: {result.stderr.strip()[-200:]}")
    assert "Traceback" not in result.stderr, result.stderr
    checks = {entry["check"]: entry for entry in json.loads(result.stdout)}
    return result.returncode, checks, result.stderr


def test_without_ptrace_a_pid_is_not_called_a_host_process(
    start_container: StartContainer,
) -> None:
    # the plain-namespace container's process has every capability: without
    # CAP_SYS_PTRACE, its namespaces and /proc/PID/exe are refused (EACCES)
    started = start_container("process")
    code, checks, stderr = doctor_as(NO_PTRACE, str(started.pid))
    assert code == 1
    assert list(checks)[: len(HOST_CHECKS)] == HOST_CHECKS
    assert checks["privileges"]["status"] == "fail"
    assert "not a container" not in stderr and "host process" not in stderr, stderr
    lookup = checks["lookup"]
    assert lookup["status"] == "warn"
    assert f"PID {started.pid}: its namespaces cannot be read (Permission denied)" in str(
        lookup["detail"]
    )
    for name in ("lookup", "user-namespace", "symbols"):
        assert "(see the privileges line)" in str(checks[name]["detail"]), checks[name]
        assert "privileges line" in str(checks[name]["fix"])
    assert "cannot name the main binary" not in str(checks["symbols"]["detail"])
    assert "Permission denied on /proc/" in str(checks["user-namespace"]["detail"])


def test_without_root_a_docker_name_says_the_socket_refused_us(
    start_container: StartContainer,
) -> None:
    started = start_container("docker")
    code, checks, _ = doctor_as(NO_ROOT, started.name)
    assert code == 1
    assert list(checks) == [*HOST_CHECKS, "lookup"]
    assert checks["privileges"]["status"] == "fail"
    detail = str(checks["lookup"]["detail"])
    assert checks["lookup"]["status"] == "fail"
    assert detail.startswith(f"cannot look up {started.name!r}: docker: ")
    assert "docker.sock: [Errno 13] Permission denied" in detail
    assert "host process" not in detail and "(see the privileges line)" in detail


def test_own_seccomp_filter_is_a_warning(tmp_path: Path) -> None:
    wrapper = compile_c(SECCOMP_WRAPPER, tmp_path, "seccomp-wrapper")
    result = doctor("--json", prefix=(str(wrapper),))  # it execs CLI[0]
    checks = {entry["check"]: entry for entry in json.loads(result.stdout)}
    assert checks["own-seccomp"]["status"] == "warn", result.stderr
    assert "seccomp=unconfined" in str(checks["own-seccomp"]["fix"])
    assert host.own_seccomp().status == "ok"  # this test's own process has none


def test_fuse_device_replaced_in_a_private_mount_namespace(tmp_path: Path) -> None:
    # Only this doctor's own mount namespace sees a plain file over /dev/fuse.
    fake = tmp_path / "not-fuse"
    fake.write_text("")
    script = f'mount --bind {fake} /dev/fuse && exec "$@"'
    result = doctor(
        "--json",
        prefix=("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"),
    )
    checks = {entry["check"]: entry for entry in json.loads(result.stdout)}
    assert result.returncode == 1
    assert checks["fuse"]["status"] == "fail"
    assert "not the FUSE device" in str(checks["fuse"]["detail"])
    assert host.fuse().status == "ok"  # the host's own /dev/fuse is untouched


def test_fuse_missing_device_and_missing_module(tmp_path: Path) -> None:
    # Stated plainly: the device cannot be removed nor the module unloaded under a test
    # bed that uses them, so the function is pointed at a missing path and at a
    # /proc/filesystems copy without the fuse line.
    missing = host.fuse(device=str(tmp_path / "fuse"))
    assert missing.status == "fail" and "does not exist" in missing.detail
    assert "modprobe fuse" in str(missing.fix)
    with open("/proc/filesystems") as real:
        without_fuse = [line for line in real if line.split()[-1:] != ["fuse"]]
    filesystems = tmp_path / "filesystems"
    filesystems.write_text("".join(without_fuse))
    unloaded = host.fuse(filesystems=str(filesystems))
    assert unloaded.status == "fail" and unloaded.fix == "modprobe fuse"


def test_ptrace_scope_values(tmp_path: Path) -> None:
    # This kernel has no Yama (see the next test): the file is a stand-in holding each
    # value; the capability sets are real ones, with and without CAP_SYS_PTRACE.
    scope = tmp_path / "ptrace_scope"
    mine = process_status.capabilities(os.getpid())
    without = linux_capabilities.Capabilities(
        0, 0, mine.effective & ~(1 << linux_capabilities.CAP_SYS_PTRACE), 0, 0
    )
    expected = {
        ("0", mine): "ok",
        ("1", mine): "ok",
        ("2", mine): "ok",
        ("1", without): "fail",
        ("2", without): "fail",
        ("3", mine): "fail",
    }
    for (value, capabilities), status in expected.items():
        scope.write_text(value + "\n")
        check = host.ptrace_scope(str(scope), capabilities)
        assert check.status == status, (value, check)
    scope.write_text("3\n")
    assert "reboot" in str(host.ptrace_scope(str(scope), mine).fix)
    assert host.ptrace_scope(str(tmp_path / "absent")).status == "ok"


def test_ptrace_scope_set_then_restored() -> None:
    # ptrace_scope 3 cannot be lowered again without a reboot: this uses 1, with
    # CAP_SYS_PTRACE dropped from the doctor run, and writes the old value back.
    if not os.path.exists(host.YAMA_PTRACE_SCOPE):
        pytest.skip("this kernel has no Yama LSM: test_ptrace_scope_values covers the values")
    with open(host.YAMA_PTRACE_SCOPE) as file:
        old = file.read().strip()
    if old == "3":
        pytest.skip("ptrace_scope is 3 already and cannot be lowered")
    try:
        with open(host.YAMA_PTRACE_SCOPE, "w") as file:
            file.write("1")
        result = doctor("--json", prefix=("setpriv", "--bounding-set", "-sys_ptrace", "--"))
        checks = {entry["check"]: entry for entry in json.loads(result.stdout)}
        assert checks["ptrace_scope"]["status"] == "fail"
    finally:
        with open(host.YAMA_PTRACE_SCOPE, "w") as file:
            file.write(old)


def test_lsm_states(tmp_path: Path) -> None:
    # No LSM is loaded on this machine: a stand-in /sys holds each state.
    assert host.lsm(str(tmp_path)).status == "ok"
    (tmp_path / "module/apparmor/parameters").mkdir(parents=True)
    (tmp_path / "module/apparmor/parameters/enabled").write_text("Y\n")
    assert "AppArmor enabled" in host.lsm(str(tmp_path)).detail
    (tmp_path / "fs/selinux/booleans").mkdir(parents=True)
    (tmp_path / "fs/selinux/enforce").write_text("1")
    assert host.lsm(str(tmp_path)).status == "warn"
    (tmp_path / "fs/selinux/booleans/deny_ptrace").write_text("1 1")
    denied = host.lsm(str(tmp_path))
    assert denied.status == "fail" and denied.fix == "setsebool deny_ptrace off"


# --- container checks -----------------------------------------------------------------


def test_paused_docker_container_fails_state_and_freezer(start_container: StartContainer) -> None:
    started = start_container("docker")
    code, checks = doctor_json(started.name)
    assert code == 0, checks
    assert list(checks) == HOST_CHECKS + TARGET_CHECKS
    assert checks["state"]["status"] == "ok" and checks["freezer"]["status"] == "ok"
    subprocess.run(["docker", "pause", started.name], check=True, capture_output=True)
    try:
        code, checks = doctor_json(started.name)
    finally:
        subprocess.run(["docker", "unpause", started.name], capture_output=True)
    assert code == 1
    for name in ("state", "freezer"):
        assert checks[name]["status"] == "fail", checks[name]
        assert checks[name]["fix"] == f"docker unpause {started.name}"


@contextlib.contextmanager
def sleeper_in_cgroup(cgroup: Path, freeze_file: str, thawed: str) -> Iterator[Container]:
    """A sleep in a new cgroup of ours; thawed (its `freeze_file` set to `thawed`),
    ended, and the cgroup removed, whatever the test did."""
    cgroup.mkdir()
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        (cgroup / "cgroup.procs").write_text(str(sleeper.pid))
        yield container_of(sleeper.pid)
    finally:
        (cgroup / freeze_file).write_text(thawed)  # a v1-frozen process cannot die
        sleeper.kill()
        sleeper.wait()
        cgroup.rmdir()


def test_frozen_cgroup_v2_fails_freezer() -> None:
    # A cgroup of our own in the v2 tree (hybrid machines have one too), frozen with
    # cgroup.freeze.
    v2 = next((m.mount_point for m in cgroup_mounts() if m.fstype == "cgroup2"), None)
    if v2 is None:
        pytest.skip("no cgroup v2 tree mounted")
    cgroup = Path(v2) / f"{TEST_PREFIX}freeze-{uuid.uuid4().hex[:8]}"
    with sleeper_in_cgroup(cgroup, "cgroup.freeze", "0") as container:
        assert target.freezer(container).status == "ok"
        (cgroup / "cgroup.freeze").write_text("1")
        check = target.freezer(container)
    assert check.status == "fail" and str(cgroup) in check.detail
    assert check.fix == f"echo 0 > {cgroup}/cgroup.freeze"


def test_frozen_cgroup_v1_names_its_freezer_state_and_fails_state() -> None:
    # A freezer cgroup of our own in the v1 hierarchy, frozen with freezer.state (a
    # process there shows as D, not T), with no runtime to name a thaw command.
    v1 = next(
        (
            m.mount_point
            for m in cgroup_mounts()
            if m.fstype == "cgroup" and "freezer" in m.super_options.split(",")
        ),
        None,
    )
    if v1 is None:
        pytest.skip("no cgroup v1 freezer hierarchy mounted")
    cgroup = Path(v1) / f"{TEST_PREFIX}freeze-{uuid.uuid4().hex[:8]}"
    with sleeper_in_cgroup(cgroup, "freezer.state", "THAWED") as container:
        assert target.freezer(container).status == "ok"
        assert target.state(container).status == "ok"
        (cgroup / "freezer.state").write_text("FROZEN")
        freezer, state = target.freezer(container), target.state(container)
    assert freezer.status == "fail" and f"cgroup {cgroup} is frozen" in freezer.detail
    assert freezer.fix == f"echo THAWED > {cgroup}/freezer.state"
    assert state.status == "fail", state
    assert f"is frozen (cgroup {cgroup}, freezer.state)" in state.detail
    assert state.fix == freezer.fix


def test_a_stopped_container_is_a_state_line_after_the_host_checks(
    start_container: StartContainer,
) -> None:
    started = start_container("docker")
    subprocess.run(["docker", "kill", started.name], check=True, capture_output=True)
    result = doctor(started.name)
    assert result.returncode == 1 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [*HOST_CHECKS, "state"]
    assert lines[-1] == (
        f"fail  state           docker container {started.name} is exited "
        f"(fix: start it: docker start {started.name})"
    )


def test_a_created_container_in_json_is_the_host_checks_and_a_state_line(
    demo_rootfs: Path,
) -> None:
    require_runtime("docker")
    tag = containers.ensure_image("docker", demo_rootfs)
    name = f"{TEST_PREFIX}created-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["docker", "create", "--name", name, tag, "/app/threads"], check=True, capture_output=True
    )
    try:
        code, checks = doctor_json(name)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    assert code == 1
    assert list(checks) == [*HOST_CHECKS, "state"]
    assert checks["state"] == {
        "check": "state",
        "status": "fail",
        "detail": f"docker container {name} is created",
        "fix": f"start it: docker start {name}",
    }


def test_traced_container_names_its_tracer(start_container: StartContainer) -> None:
    started = start_container("docker")
    with traced_by_holder(started.pid) as holder:
        code, checks = doctor_json(started.name)
    assert code == 1
    tracer = checks["tracer"]
    assert tracer["status"] == "fail"
    assert f"PID {holder.pid} ({sys.executable} -c import ctypes" in str(tracer["detail"])
    assert tracer["fix"] == f"detach that debugger, or end it (kill {holder.pid})"
    assert doctor_json(started.name)[1]["tracer"]["status"] == "ok"  # the holder is gone


def test_a_tracer_on_one_worker_thread_is_named_with_the_thread(
    start_container: StartContainer,
) -> None:
    from cntr_tui.preflight import TracedThread, threads_traced  # what the gdb path calls

    started = start_container("docker")
    workers = sorted(int(tid) for tid in os.listdir(f"/proc/{started.pid}/task"))[1:]
    assert workers, "the demo program has worker threads"
    worker = workers[-1]
    assert threads_traced(started.pid) == []
    strace = subprocess.Popen(
        ["strace", "-p", str(worker), "-o", "/dev/null"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert strace.stderr is not None  # strace says so once it holds the thread
        assert strace.stderr.readline().strip() == f"strace: Process {worker} attached"
        traced = threads_traced(started.pid)
        code, checks = doctor_json(started.name)
    finally:
        strace.terminate()  # strace detaches from the thread on SIGTERM
        strace.wait()
    assert traced == [TracedThread(worker, strace.pid)]
    assert code == 1
    tracer = checks["tracer"]
    assert tracer["status"] == "fail"
    assert (
        f"already traced by PID {strace.pid} (strace -p {worker} -o /dev/null), "
        f"holding thread {worker}:" in str(tracer["detail"])
    ), tracer
    assert "main thread" not in str(tracer["detail"])
    assert tracer["fix"] == f"detach that debugger, or end it (kill {strace.pid})"
    assert doctor_json(started.name)[1]["tracer"]["status"] == "ok"  # strace let go


def test_stripped_binary_warns_and_debug_info_is_found_where_gdb_looks(
    rootfs_copy: Path,
) -> None:
    program = rootfs_copy / "app/threads"
    debug = rootfs_copy / "app/threads.full"
    subprocess.run(["objcopy", "--only-keep-debug", str(program), str(debug)], check=True)
    subprocess.run(["strip", "--strip-all", str(program)], check=True)
    with process_container_on(rootfs_copy) as started:
        _, checks = doctor_json(str(started.pid))
        build_id = build_id_of(started.pid)
    symbols = checks["symbols"]
    assert symbols["status"] == "warn", symbols
    assert "stripped: only dynamic symbols" in str(symbols["detail"])
    assert f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug" in str(symbols["fix"])
    # the same build's debug file in the host's /usr/lib/debug/.build-id (removed after)
    wanted = f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug"
    host_file = Path(wanted)
    assert not host_file.exists()
    host_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        host_file.write_bytes(debug.read_bytes())
        with process_container_on(rootfs_copy) as started:
            found = target.symbols(container_of(started.pid))
    finally:
        host_file.unlink()
        with contextlib.suppress(OSError):
            host_file.parent.rmdir()
    assert found == Check("symbols", "ok", f"/app/threads: debug info ({wanted} on the host)")
    # then in the container's own /usr/lib/debug/.build-id (put in the test's copy of
    # the root before the container starts)
    folder = rootfs_copy / f"usr/lib/debug/.build-id/{build_id[:2]}"
    folder.mkdir(parents=True)
    debug.rename(folder / f"{build_id[2:]}.debug")
    with process_container_on(rootfs_copy) as started:
        found = target.symbols(container_of(started.pid))
    assert found.status == "ok", found
    assert found == Check("symbols", "ok", f"/app/threads: debug info ({wanted} in the container)")


def test_a_static_stripped_binary_is_not_said_to_have_dynamic_symbols() -> None:
    # the host's busybox: statically linked and stripped (no .symtab, no .dynsym)
    program = os.path.realpath("/bin/busybox")  # /proc/PID/exe names the real path
    busybox = subprocess.Popen([program, "sleep", "600"])
    try:
        check = target.symbols(container_of(busybox.pid))
    finally:
        busybox.kill()
        busybox.wait()
    assert check.status == "warn"
    assert check.detail.startswith(
        f"{program}: stripped static binary: no symbol table, and no dynamic symbols either"
    ), check
    assert "only dynamic symbols" not in check.detail
    assert "no separate debug file" in check.detail


def build_id_of(pid: int) -> str:
    from cntr_tui.gdb.elf import read_elf

    info = read_elf(f"/proc/{pid}/exe")
    assert info is not None and info.build_id
    return info.build_id


def container_of(pid: int):
    container = process_container(pid)
    assert container is not None
    return container


def test_unstripped_binary_has_debug_info(start_container: StartContainer) -> None:
    started = start_container("process")
    check = target.symbols(container_of(started.pid))
    assert check == Check("symbols", "ok", "/app/threads: debug info (embedded)")


def test_user_namespace_is_a_warning_saying_what_it_means() -> None:
    check = user_namespace_check("--map-root-user")
    assert check.status == "warn" and "own user namespace" in check.detail
    assert "owned by nobody" in check.detail
    assert target.user_namespace(container_of(os.getpid())).status == "ok"


def user_namespace_check(*unshare: str) -> Check:
    """The user-namespace line of a shell that `unshare` started in a new user
    namespace (it says `ready` once in it)."""
    holder = subprocess.Popen(
        ["unshare", "--user", *unshare, "sh", "-c", "echo ready; exec sleep 600"],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"ready\n"
        return target.user_namespace(container_of(holder.pid))
    finally:
        holder.kill()
        holder.wait()


def test_user_namespace_says_whether_setgroups_is_denied() -> None:
    # --map-root-user writes "deny" to /proc/PID/setgroups before the gid map (as an
    # unprivileged runtime must); a namespace with no maps written keeps "allow"
    denied = user_namespace_check("--map-root-user")
    assert denied.status == "warn"
    assert "setgroups is denied in it (/proc/" in denied.detail
    assert "the session keeps the namespace's groups" in denied.detail
    allowed = user_namespace_check("--setgroups", "allow")
    assert allowed.status == "warn" and "its root is unmapped" in allowed.detail
    assert "setgroups is allowed in it" in allowed.detail


def test_seccomp_strict_program_warns(tmp_path: Path) -> None:
    program = compile_c(SECCOMP_STRICT, tmp_path, "strict")
    strict = subprocess.Popen([str(program)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert strict.stdout is not None and strict.stdout.readline() == b"ready\n"
        check = target.seccomp(container_of(strict.pid))
    finally:
        strict.kill()
        strict.wait()
    assert check.status == "warn" and "strict mode" in check.detail


def test_docker_seccomp_filter_and_unconfined(start_container: StartContainer) -> None:
    started = start_container("docker")
    assert "seccomp filter" in target.seccomp(resolve(started.name)).detail
    assert target.seccomp(container_of(os.getpid())).detail.endswith("without seccomp")


def test_stopped_process_warns_and_an_exited_one_fails(start_container: StartContainer) -> None:
    started = start_container("process")
    container = container_of(started.pid)
    os.kill(started.pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 10  # the stop is asynchronous: poll /proc
        while process_status.status(started.pid).state != "T":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        check = target.state(container)
    finally:
        os.kill(started.pid, signal.SIGCONT)
    assert check.status == "warn" and check.fix == f"kill -CONT {started.pid}"
    started.remove()
    checks = run_checks(container)
    assert checks[-1].status == "fail" and "exited" in checks[-1].detail
    assert len(checks) == len(HOST_CHECKS) + 1  # one line for the exit, not six


# --- the TUI ---------------------------------------------------------------------------


async def test_failed_attach_dialog_shows_the_failed_checks(
    start_container: StartContainer,
) -> None:
    from cntr_tui.app.app import CntrApp
    from cntr_tui.app.listing import ListingResult
    from cntr_tui.app.screens.debugger import DebuggerScreen
    from cntr_tui.app.screens.error import ErrorDialog

    started = start_container("docker")
    container = resolve(started.name)
    with traced_by_holder(started.pid) as holder:
        app = CntrApp(lister=lambda: ListingResult())
        async with app.run_test(size=(160, 48)) as pilot:
            app.push_screen(DebuggerScreen(container))
            deadline = time.monotonic() + 60
            while not isinstance(app.screen, ErrorDialog):
                assert time.monotonic() < deadline, "no error dialog"
                await pilot.pause(0.05)
            message = app.screen.message
    assert f"fail tracer: already traced by PID {holder.pid}" in message
    assert f"fix: detach that debugger, or end it (kill {holder.pid})" in message
    assert not any(line.startswith("ok ") for line in message.splitlines())  # problems only
