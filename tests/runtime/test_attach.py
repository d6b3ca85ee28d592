"""`cntr-tui attach` and `exec` against a real docker container, through the CLI."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import time

import pytest

from tests.support.attach import (
    CLI,
    assert_nothing_left,
    cli,
    docker_diff,
    pid_namespace_members,
    server_processes,
    wait_until,
)

INSIDE_SCRIPT = r"""
echo "hostname=$(hostname)"
echo "pid1=$(tr '\0' ' ' < /proc/1/cmdline)"
test -x /var/lib/cntr/app/threads && echo "threads=yes"
/usr/bin/gdb --version | head -1 | sed 's/^/gdb=/'
echo "secret=${CNTR_TEST_SECRET:-absent}"
echo "path=$PATH"
echo "id=$(id -u):$(id -g)"
ps -e -o pid,comm | awk '{print "ps=" $1 ":" $2}'
for fd in /proc/$$/fd/*; do echo "fd=$(basename $fd):$(readlink $fd)"; done
exit 3
"""


def parse(output: bytes) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in output.decode().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values.setdefault(key, []).append(value)
    return values


def test_attach_runs_inside_the_container(start_container):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    env = {**os.environ, "CNTR_TEST_SECRET": "host-only-value"}
    result = cli("attach", str(container.pid), "--", "sh", "-c", INSIDE_SCRIPT, env=env)
    values = parse(result.stdout)
    assert result.returncode == 3, result.stderr
    docker_hostname = subprocess.run(
        ["docker", "inspect", "-f", "{{.Config.Hostname}}", container.name],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert values["hostname"] == [docker_hostname]
    assert values["pid1"] == ["/app/threads "]
    assert values["threads"] == ["yes"]
    assert values["gdb"][0].startswith("GNU gdb")
    assert values["secret"] == ["absent"]
    assert values["path"] == [os.environ["PATH"]]
    assert values["id"] == ["0:0"]
    ps = dict(entry.split(":", 1) for entry in values["ps"][1:])
    assert ps["1"] == "threads"  # container PIDs, from inside the PID namespace
    assert max(int(pid) for pid in ps) < 100
    fds = dict(entry.split(":", 1) for entry in values["fd"])
    extra = {fd: target for fd, target in fds.items() if fd not in ("0", "1", "2")}
    # beyond stdio only the shell's own $(...) pipe: no /dev/fuse, socket, host file
    assert all(target.startswith("pipe:") for target in extra.values()), fds
    assert docker_diff(container.name) == ""
    assert_nothing_left(container.pid, members)


def test_pipes_and_exit_status(start_container):
    container = start_container("docker")
    pipeline = subprocess.run(
        f"{' '.join(CLI)} attach {container.pid} -- cat /var/lib/cntr/etc/os-release | grep ^ID=",
        shell=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert pipeline.stdout.strip() == "ID=cntr-demo"
    killed = cli("attach", str(container.pid), "--", "sh", "-c", "kill -TERM $$")
    assert killed.returncode == 128 + signal.SIGTERM
    missing = cli("attach", str(container.pid), "--", "no-such-command-here")
    assert missing.returncode == 127
    assert missing.stderr.decode().count("\n") == 1
    assert docker_diff(container.name) == ""
    assert_nothing_left(container.pid)


def test_exec_runs_in_the_container_root(start_container):
    container = start_container("docker")
    result = cli("exec", container.name, "--", "sh", "-c", "echo $PATH; ls /; test -e /usr/bin/gdb")
    lines = result.stdout.decode().split()
    assert result.returncode == 1  # no host gdb in the container's own root
    assert lines[0] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert "app" in lines
    assert docker_diff(container.name) == ""
    assert_nothing_left(container.pid)


def test_fs_mount_mode(start_container):
    container = start_container("docker")
    result = cli(
        "attach",
        "--fs",
        "mount",
        str(container.pid),
        "--",
        "sh",
        "-c",
        "test -x /usr/bin/gdb && cat /var/lib/cntr/etc/os-release",
    )
    assert result.returncode == 0, result.stderr
    assert b"ID=cntr-demo" in result.stdout
    assert docker_diff(container.name) == ""
    assert_nothing_left(container.pid)


def read_until(master: int, marker: bytes, timeout: float = 30) -> bytes:
    output = b""
    deadline = time.monotonic() + timeout
    while marker not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    return output


def test_interactive_shell_gets_a_pty(start_container):
    container = start_container("docker")
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execv(CLI[0], [*CLI, "attach", str(container.pid), "--", "/bin/sh"])
        finally:
            os._exit(127)
    try:
        prompt = read_until(master, b"# ")
        assert b"# " in prompt
        os.write(master, b"tty; echo answer=$((6*7)); exit 4\n")
        output = read_until(master, b"\x00never")
    finally:
        statuses: list[int] = []

        def exited() -> bool:
            waited, status = os.waitpid(pid, os.WNOHANG)
            statuses.append(status)
            return waited == pid

        if not wait_until(exited, 10):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(master)
    assert os.waitstatus_to_exitcode(statuses[-1]) == 4
    assert b"answer=42" in output
    assert b"/dev/pts/" in output  # a PTY of its own
    assert_nothing_left(container.pid)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["attach", "cntr-test-no-such-container", "--", "true"], "no container matches"),
        (["attach", "999999999", "--", "true"], "no container matches"),
        (["exec", "cntr-test-no-such-container"], "no container matches"),
    ],
)
def test_bad_input_is_one_line(argv, message):
    result = cli(*argv)
    assert result.returncode != 0
    stderr = result.stderr.decode()
    assert stderr.count("\n") == 1 and message in stderr, stderr
    assert result.stdout == b""


def test_stopped_paused_and_non_root(start_container):
    container = start_container("docker")
    subprocess.run(["docker", "pause", container.name], check=True, capture_output=True)
    try:
        paused = cli("attach", container.name, "--", "true")
    finally:
        subprocess.run(["docker", "unpause", container.name], check=True, capture_output=True)
    assert paused.returncode != 0 and b"paused" in paused.stderr
    assert paused.stderr.count(b"\n") == 1
    setpriv = shutil.which("setpriv")
    if setpriv:
        non_root = subprocess.run(
            [
                setpriv,
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                *CLI,
                "attach",
                str(container.pid),
                "--",
                "true",
            ],
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
        assert non_root.returncode != 0 and b"root" in non_root.stderr
        assert non_root.stderr.count(b"\n") == 1
    subprocess.run(["docker", "stop", "-t", "0", container.name], check=True, capture_output=True)
    stopped = cli("attach", container.name, "--", "true")
    assert stopped.returncode != 0 and stopped.stderr.count(b"\n") == 1
    assert not server_processes(container.pid)


def test_sigkill_of_attach_leaves_nothing(start_container):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    attach = subprocess.Popen(
        [*CLI, "attach", str(container.pid), "--", "sleep", "1000"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: len(pid_namespace_members(container.pid)) > len(members), 20)
        attach.kill()
        attach.wait()
        assert_nothing_left(container.pid, members)
    finally:
        if attach.poll() is None:
            attach.kill()
