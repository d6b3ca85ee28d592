"""A container's own log stream (cntr_tui.logs) on real containers of the test bed.

The containers run the demo's threads program, which prints `ready N workers` on its
stdout at its start. The other known lines go into the container's own stdout and
stderr: the test writes them into the main process's descriptors 1 and 2
(/proc/PID/fd/N, the pipes the runtime reads), or the plain process's shell prints
them into its files.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from cntr_tui.attach.container import Container
from cntr_tui.attach.lookup import resolve
from cntr_tui.demo.containers import (
    CONTAINERD_SOCKET,
    K8S_NAMESPACE,
    LXC_DIR,
    containerd_task_pid,
    copy_rootfs,
    ensure_image,
    remove_containerd,
    remove_lxc,
    run,
    throwaway_root,
)
from cntr_tui.logs import LogStream, NoLogs, open_container_logs
from cntr_tui.logs.cri import cri_logs
from cntr_tui.logs.records import LogLine
from tests.support.proc import wait_until
from tests.support.runtimes import TEST_PREFIX, StartContainer, require_runtime
from tests.unit.test_logs_parsers import CRI_LINES

DEADLINE = 30.0
READY = "ready "  # the threads program says `ready N workers` at its start
# The plain process: its shell sends its output to files in its root, prints a line to
# each, says ready on the test bed's pipe, and prints two more lines at each SIGUSR1.
PRINTER = (
    "/bin/sh -c 'exec 3>&1 >/out.log 2>/err.log; echo first-out; echo first-err >&2;"
    " echo ready >&3; exec 3>&-;"
    ' trap "echo live-out; echo live-err >&2" USR1; while :; do sleep 1; done\''
)


def print_into(pid: int, number: int, text: str) -> None:
    """`text` as a line on the container's descriptor `number` (its stdout or stderr)."""
    with open(f"/proc/{pid}/fd/{number}", "w") as output:
        output.write(f"{text}\n")


def runtime_log(started_name: str, runtime: str) -> str:
    """What the runtime's own CLI shows of the container's log, both streams."""
    return (
        subprocess.run(
            [runtime, "logs", started_name], capture_output=True, text=True, check=False
        ).stdout
        + subprocess.run(
            [runtime, "logs", started_name], capture_output=True, text=True, check=False
        ).stderr
    )


async def take(lines: AsyncIterator[LogLine], count: int) -> list[LogLine]:
    async def collect() -> list[LogLine]:
        found = []
        async for line in lines:
            found.append(line)
            if len(found) == count:
                break
        return found

    return await asyncio.wait_for(collect(), DEADLINE)


def our_log_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if "logs" in thread.name]


def our_children() -> set[int]:
    """Our live (not zombie) descendants: the test bed's own, and any a log source left."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                found.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def container_of(name: str, runtime: str) -> Container:
    return resolve(name, [runtime], warn=lambda message: None)


@pytest.mark.parametrize("runtime", ["docker", "podman"])
async def test_the_last_lines_then_live_ones_with_their_streams(
    start_container: StartContainer, runtime: str
) -> None:
    started = start_container(runtime)
    for number, text in ((2, "err-1"), (1, "out-1"), (2, "err-2"), (1, "out-2")):
        print_into(started.pid, number, text)
    assert wait_until(lambda: "out-2" in runtime_log(started.name, runtime))
    children_before = our_children()

    logs = open_container_logs(container_of(started.name, runtime), started.pid, tail=4)
    assert our_children() == children_before and not our_log_threads()  # nothing before lines()
    lines = logs.lines()
    tail = await take(lines, 4)
    print_into(started.pid, 1, "live-out")
    print_into(started.pid, 2, "live-err")
    live = await take(lines, 2)
    await logs.close()
    rest = await asyncio.wait_for(take(lines, 1), DEADLINE)

    assert sorted((line.text, line.stream) for line in tail) == [
        ("err-1", "stderr"),
        ("err-2", "stderr"),
        ("out-1", "stdout"),
        ("out-2", "stdout"),
    ]
    assert all(line.time is not None for line in tail + live)
    times = [line.time or 0.0 for line in tail]
    assert times == sorted(times), tail  # the runtime's order, across both streams
    assert sorted((line.text, line.stream) for line in live) == [
        ("live-err", "stderr"),
        ("live-out", "stdout"),
    ]
    assert rest == []
    assert not our_log_threads()
    assert our_children() <= children_before


async def test_a_plain_process_writing_to_files(start_container: StartContainer) -> None:
    started = start_container("process", PRINTER)
    fds_before = open_fds()

    logs = open_container_logs(container_of(started.name, "process"), started.pid, tail=10)
    lines = logs.lines()
    tail = await take(lines, 2)
    os.kill(started.pid, signal.SIGUSR1)
    live = await take(lines, 2)
    await logs.close()

    assert sorted((line.text, line.stream) for line in tail) == [
        ("first-err", "stderr"),
        ("first-out", "stdout"),
    ]
    assert sorted((line.text, line.stream) for line in live) == [
        ("live-err", "stderr"),
        ("live-out", "stdout"),
    ]
    assert await take(lines, 1) == []
    assert open_fds() == fds_before  # the files, inotify and pidfd descriptors are closed
    assert "/out.log" in logs.source and "/err.log" in logs.source


async def killed_while_following(logs: LogStream, kill: object) -> list[LogLine]:
    """Lines until the end, the container killed once the first has come."""
    lines = logs.lines()
    first = await take(lines, 1)
    assert first, "no line before the kill"
    assert callable(kill)
    kill()
    return first + await asyncio.wait_for(take(lines, 1000), DEADLINE)


@pytest.mark.parametrize("runtime", ["docker", "podman", "process"])
async def test_a_killed_container_ends_the_lines(
    start_container: StartContainer, runtime: str
) -> None:
    started = start_container(runtime, PRINTER if runtime == "process" else "/app/threads")
    if runtime == "process":
        kill = lambda: os.kill(started.pid, signal.SIGKILL)  # noqa: E731
    else:
        kill = lambda: subprocess.run([runtime, "kill", started.name], check=True)  # noqa: E731
    children_before = our_children()
    logs = open_container_logs(container_of(started.name, runtime), started.pid, tail=5)

    seen = await killed_while_following(logs, kill)

    assert seen and not any(line.stream == "error" for line in seen), seen
    assert not our_log_threads()
    assert our_children() <= children_before
    await logs.close()


@pytest.mark.parametrize(
    ("runtime", "reason"),
    [
        ("process", "keeps no log: its stdout is pipe:["),
        ("containerd", "containerd keeps no log for task "),  # `ctr run -d`: no log URI
        ("lxc", "keeps no console log (lxc.console.logfile is not set in "),
        ("nspawn", "is not registered with systemd-machined"),
    ],
)
def test_a_container_without_a_log_says_why(
    start_container: StartContainer, runtime: str, reason: str
) -> None:
    started = start_container(runtime)
    container = container_of(started.name, runtime)
    with pytest.raises(NoLogs) as refused:
        open_container_logs(container, started.pid)
    message = str(refused.value)
    assert reason in message and "\n" not in message, message


async def test_the_debug_session_opens_the_logs(start_container: StartContainer) -> None:
    """LiveDebugSession.open_logs, with gdb attached: docker's log, and a plain process's
    refusal as an error Result."""
    from cntr_tui.debug.service import open_debug
    from cntr_tui.debug.target import target_for

    docker = start_container("docker")
    plain = start_container("process")
    for started, runtime in ((docker, "docker"), (plain, "process")):
        session = await open_debug(target_for(container_of(started.name, runtime)))
        try:
            opened = session.open_logs(tail=5)
            if runtime == "docker":
                assert opened.ok and opened.value is not None, opened.error
                lines = opened.value.lines()
                first = await take(lines, 1)
                assert first[0].text.startswith(READY) and first[0].stream == "stdout", first
                await opened.value.close()
                assert await take(lines, 1) == []
            else:
                assert not opened.ok and opened.error and "stdout is pipe:[" in opened.error
        finally:
            await session.close()


async def test_a_kubernetes_container_s_cri_log(
    start_container: StartContainer, tmp_path: Path
) -> None:
    """A containerd k8s.io container with a kubelet's labels. No kubelet or CRI plugin
    runs here, so the test writes the file CRI would (lines recorded from conmon, which
    writes the same format) in a pods folder of its own."""
    pod, uid = f"web-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())
    labels = {
        "io.kubernetes.pod.name": pod,
        "io.kubernetes.pod.namespace": "shop",
        "io.kubernetes.container.name": "app",
        "io.kubernetes.pod.uid": uid,
    }
    started = start_container("containerd", labels=labels)
    container = container_of(started.name, "containerd")
    with pytest.raises(NoLogs) as absent:
        open_container_logs(container, started.pid)
    assert f"no CRI log of shop/{pod}/app under /var/log/pods" in str(absent.value)
    folder = tmp_path / f"shop_{pod}_{uid}" / "app"
    folder.mkdir(parents=True)
    (folder / "0.log").write_text("".join(f"{line}\n" for line in CRI_LINES))

    logs = cri_logs(container, 4, str(tmp_path))  # the last 4 of the file's 5 lines
    lines = logs.lines()
    tail = await take(lines, 3)
    with open(folder / "0.log", "a") as log:
        log.write("2026-12-02T19:40:00.1+00:00 stdout P live \n")
        log.write("2026-12-02T19:40:00.2+00:00 stdout F line\n")
    live = await take(lines, 1)
    subprocess.run(
        [
            "ctr",
            "--address",
            CONTAINERD_SOCKET,
            "-n",
            K8S_NAMESPACE,
            "task",
            "kill",
            "-s",
            "SIGKILL",
            started.name,
        ],
        check=True,
    )
    rest = await take(lines, 10)  # the container's end ends the lines

    assert [(line.text, line.stream) for line in tail] == [
        ("worker-2 is slow", "stderr"),
        ("first part, then the rest", "stdout"),
        ("ünïcode ✓", "stdout"),
    ]
    assert [(line.text, line.stream) for line in live] == [("live line", "stdout")]
    assert rest == []
    assert logs.source == str(folder / "0.log")
    await logs.close()


def test_a_docker_container_logging_to_nothing_says_so(demo_rootfs: Path) -> None:
    """`docker run --log-driver none` (the test bed's starter has no option for it)."""
    require_runtime("docker")
    name = f"{TEST_PREFIX}docker-nolog-{uuid.uuid4().hex[:8]}"
    tag = ensure_image("docker", demo_rootfs)
    run = ["docker", "run", "-d", "--name", name, "--network", "none", "--log-driver", "none"]
    try:
        subprocess.run([*run, tag, "/app/threads"], check=True, capture_output=True)
        container = container_of(name, "docker")
        with pytest.raises(NoLogs) as refused:
            open_container_logs(container, 0)
        assert (
            str(refused.value) == f"docker container {name} keeps no log: its log driver is 'none'"
        )
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


async def test_a_containerd_task_with_a_log_file(demo_rootfs: Path, tmp_path: Path) -> None:
    """`ctr run --log-uri file://...` (the test bed's starter gives no log URI): the
    shim writes the task's stdout and stderr into that file, which is followed."""
    require_runtime("containerd")
    name = f"{TEST_PREFIX}containerd-log-{uuid.uuid4().hex[:8]}"
    root = throwaway_root(name, demo_rootfs)
    ctr = ("ctr", "--address", CONTAINERD_SOCKET, "-n", "default")
    log = tmp_path / "task.log"
    try:
        subprocess.run(
            [
                *ctr,
                "run",
                "-d",
                "--log-uri",
                f"file://{log}",
                "--rootfs",
                str(root.path),
                name,
                "/app/threads",
            ],
            check=True,
            capture_output=True,
        )
        pid = containerd_task_pid(ctr, name)
        logs = open_container_logs(container_of(name, "containerd"), pid, tail=5)
        lines = logs.lines()
        first = await take(lines, 1)
        print_into(pid, 2, "to stderr")
        live = await take(lines, 1)
        subprocess.run([*ctr, "task", "kill", "-s", "SIGKILL", name], check=True)
        rest = await take(lines, 10)
    finally:
        remove_containerd(ctr, name)
        root.remove()

    assert first[0].text.startswith(READY) and first[0].stream == "stdout+stderr", first
    assert live == [LogLine("to stderr", "stdout+stderr")]
    assert rest == []
    assert logs.source == f"containerd task {name}: {log}"


def start_lxc_with_console_log(name: str, rootfs: Path) -> tuple[int, Path]:
    """An LXC container as the test bed's, plus lxc.console.logfile (and autodev, for
    its /dev/console); (its PID, the console log)."""
    folder = LXC_DIR / name
    (folder / "rootfs").mkdir(parents=True)
    copy_rootfs(rootfs, folder / "rootfs")
    (folder / "config").write_text(
        f"lxc.uts.name = {name}\n"
        f"lxc.rootfs.path = dir:{folder}/rootfs\n"
        "lxc.net.0.type = empty\n"
        "lxc.init.cmd = /app/threads\n"
        "lxc.apparmor.profile = unconfined\n"
        "lxc.mount.auto = proc sys\n"
        "lxc.autodev = 1\n"
        f"lxc.console.logfile = {folder}/console.log\n"
    )
    run("lxc-start", "-n", name, "-d")
    run("lxc-wait", "-n", name, "-s", "RUNNING", "-t", "30")
    return int(run("lxc-info", "--no-humanize", "--pid", "--name", name)), folder / "console.log"


def print_on_console(pid: int, text: str) -> None:
    with open(f"/proc/{pid}/root/dev/console", "w") as console:
        console.write(f"{text}\n")


async def test_an_lxc_console_log(demo_rootfs: Path) -> None:
    """What reaches the container's /dev/console (the test writes there: the demo
    program prints to its stdout, which `lxc-start -d` sends to /dev/null)."""
    require_runtime("lxc")
    name = f"{TEST_PREFIX}lxc-console-{uuid.uuid4().hex[:8]}"
    try:
        pid, console_log = start_lxc_with_console_log(name, demo_rootfs)
        print_on_console(pid, "before")
        assert wait_until(lambda: b"before" in console_log.read_bytes())
        logs = open_container_logs(container_of(name, "lxc"), pid, tail=5)
        lines = logs.lines()
        tail = await take(lines, 1)
        print_on_console(pid, "live")
        live = await take(lines, 1)
        run("lxc-stop", "-k", "-n", name)
        rest = await take(lines, 10)
    finally:
        remove_lxc(name)

    assert tail == [LogLine("before", "console")]  # the console's \r\n is one line end
    assert live == [LogLine("live", "console")]
    assert rest == []
    assert logs.source == f"console log of LXC {name}: {console_log}"
