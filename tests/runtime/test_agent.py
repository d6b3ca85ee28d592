"""The resident agent (attach/agent_process.py): a file-server zygote started on first
use. With it a merged root's server is forked ready; without it (off, killed, stopped,
gone idle) a command starts its server itself and works the same. Each test has an agent
of its own name (CNTR_TUI_AGENT), stopped (or killed) at its end whatever happened."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator

import psutil
import pytest

from cntr_tui.attach import agent_client
from cntr_tui.attach.session import AttachSession
from cntr_tui.settings import Settings
from tests.runtime.test_attach_spare import gone
from tests.support.attach import (
    CLI,
    assert_nothing_left,
    cmdline,
    pid_namespace_members,
    wait_until,
)

SCRIPT = (
    "id; hostname; ls /; ls /var/lib/cntr; "
    "grep -E '^(Cap|Uid|Gid|NoNewPrivs|Seccomp)' /proc/self/status; env | sort"
)
NOBODY = 65534
HOST_PYTHON = "/usr/bin/python3"  # nobody may not run the venv's (under /root)


class Agent:
    """The environment naming one test's agent, and its address."""

    def __init__(self, idle: float = 60) -> None:
        name = f"test-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "CNTR_TUI_AGENT": name, "CNTR_TUI_AGENT_IDLE": str(idle)}
        address = agent_client.agent_address(Settings.from_environment(self.env))
        assert address is not None
        self.address = address

    def pid(self) -> int | None:
        state = agent_client.status(self.address)
        return None if state is None else int(state["pid"])

    def listening(self) -> bool:
        """Whether the abstract name is bound (in /proc/net/unix) by anyone."""
        name = self.address[1:].decode()
        with open("/proc/net/unix") as table:
            return any(line.rstrip().endswith("@" + name) for line in table)

    def attach(self, word: str, *argv: str, **env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*CLI, "attach", word, "--", *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            env={**self.env, **env},
        )

    def end(self) -> None:
        pid = self.pid()
        agent_client.stop(self.address)
        if pid is not None and not gone(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def agent() -> Iterator[Agent]:
    started = Agent()
    try:
        yield started
    finally:
        started.end()
    assert not started.listening(), "the test's agent outlived it"


def test_attach_through_the_agent_is_attach_without_it_and_leaves_nothing(start_container, agent):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    assert agent.pid() is None
    first = agent.attach(container.name, "sh", "-c", SCRIPT)  # starts the agent
    assert first.returncode == 0, first.stderr
    assert_nothing_left(container.pid, members)
    state = agent_client.status(agent.address)
    assert state is not None
    second = agent.attach(container.name, "sh", "-c", SCRIPT)  # an agent already up
    assert second.returncode == 0, second.stderr
    after = agent_client.status(agent.address)
    assert after is not None and after["pid"] == state["pid"]
    assert after["served"] == state["served"] + 1  # the second's server was the agent's
    assert_nothing_left(container.pid, members)
    without = agent.attach(container.name, "sh", "-c", SCRIPT, CNTR_TUI_AGENT="off")
    assert without.returncode == 0, without.stderr
    assert_nothing_left(container.pid, members)
    assert agent_client.status(agent.address)["served"] == after["served"]  # not asked
    assert first.stdout == second.stdout == without.stdout
    assert b"uid=0" in first.stdout and b"app" in first.stdout


def test_the_agent_is_no_child_of_the_command_that_starts_it(start_container, agent):
    # a caller that waits for its command's children or counts them (a test's left-over
    # check, a supervisor's process tree) must not meet the agent, which outlives it
    container = start_container("docker")
    command = subprocess.Popen(
        [*CLI, "attach", container.name, "--", "sleep", "3"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=agent.env,
    )
    try:
        assert wait_until(lambda: agent.pid() is not None, 30), "no agent started"
        pid = agent.pid()
        assert pid is not None
        descendants = {child.pid for child in psutil.Process(command.pid).children(True)}
        assert command.poll() is None, command.stderr.read() if command.stderr else b""
        assert pid not in descendants
        assert psutil.Process(pid).ppid() != command.pid
        assert os.getsid(pid) == pid  # a session of its own, away from our terminal
    finally:
        _, stderr = command.communicate(timeout=60)
    assert command.returncode == 0, stderr


def test_a_forked_server_is_the_server_with_our_environment_and_cgroup(
    start_container, agent, monkeypatch, tmp_path
):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    counts = tmp_path / "counts"
    monkeypatch.setenv("CNTR_TUI_AGENT", agent.env["CNTR_TUI_AGENT"])
    # read by the server from its environment (the forked one's is the command's, in
    # os.environ: /proc/PID/environ still shows the agent's, as exec left it)
    monkeypatch.setenv("CNTR_TUI_FS_COUNTS", str(counts))
    agent_client.ensure_started(agent.address)
    assert wait_until(lambda: agent.pid() is not None)
    with AttachSession(container.pid) as session:
        assert session.root is not None
        server = session.root.server
        assert agent_client.status(agent.address)["served"] == 1
        line = cmdline(server).split(b"\0")
        assert line[1:3] == [b"-m", b"cntr_tui.fs.server_process"]
        assert f"--pid={container.pid}".encode() in line
        # whole, to its last argument: the agent's command line has room for it
        assert any(word.startswith(b"--log=") and word.endswith(b".log") for word in line)
        with (
            open(f"/proc/{server}/cgroup", "rb") as theirs,
            open("/proc/self/cgroup", "rb") as ours,
        ):
            assert theirs.read() == ours.read()
        with open(f"/proc/{server}/stat") as stat:
            parent = int(stat.read().rpartition(")")[2].split()[1])
        assert parent != agent.pid()  # nobody's child: the agent may end before it
        assert session.run(["true"]) == 0
    assert_nothing_left(container.pid, members)
    assert counts.exists()  # the server wrote its counts where our environment said


def test_the_agent_killed_mid_session_and_between_commands(start_container, agent, monkeypatch):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    monkeypatch.setenv("CNTR_TUI_AGENT", agent.env["CNTR_TUI_AGENT"])
    agent_client.ensure_started(agent.address)
    assert wait_until(lambda: agent.pid() is not None)
    first = agent.pid()
    assert first is not None
    with AttachSession(container.pid) as session:
        assert agent_client.status(agent.address)["served"] == 1
        os.kill(first, signal.SIGKILL)
        assert wait_until(lambda: gone(first))
        assert session.run(["sh", "-c", "test -d /var/lib/cntr/app"]) == 0
        with AttachSession(container.pid) as other:  # the root up: no server started
            assert other.run(["true"]) == 0
    assert_nothing_left(container.pid, members)
    assert not agent.listening()
    # between commands: the next one works (and starts an agent again)
    result = agent.attach(container.name, "true")
    assert result.returncode == 0, result.stderr
    assert_nothing_left(container.pid, members)
    second = agent.pid()
    assert second is not None and second != first
    os.kill(second, signal.SIGKILL)
    assert wait_until(lambda: gone(second))
    result = agent.attach(container.name, "sh", "-c", "echo ok")
    assert result.returncode == 0 and result.stdout == b"ok\n", result.stderr
    assert_nothing_left(container.pid, members)


def test_agent_status_and_stop(start_container, agent):
    container = start_container("docker")
    status = subprocess.run([*CLI, "agent", "status"], capture_output=True, env=agent.env)
    assert status.returncode == 3 and status.stdout == b"no agent running\n"
    assert agent.attach(container.name, "true").returncode == 0
    pid = agent.pid()
    assert pid is not None
    status = subprocess.run([*CLI, "agent", "status"], capture_output=True, env=agent.env)
    assert status.returncode == 0 and status.stdout.startswith(f"agent {pid} running".encode())
    stop = subprocess.run([*CLI, "agent", "stop"], capture_output=True, env=agent.env)
    assert stop.returncode == 0 and stop.stdout == f"agent {pid} stopped\n".encode()
    assert gone(pid) and not agent.listening()
    stop = subprocess.run([*CLI, "agent", "stop"], capture_output=True, env=agent.env)
    assert stop.returncode == 0 and stop.stdout == b"no agent running\n"


def test_the_agent_exits_when_idle(start_container):
    idle = Agent(idle=1.5)
    try:
        container = start_container("docker")
        assert idle.attach(container.name, "true").returncode == 0
        pid = idle.pid()
        assert pid is not None
        assert wait_until(lambda: gone(pid), timeout=15)
        assert not idle.listening()
    finally:
        idle.end()


def as_nobody(code: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [HOST_PYTHON, "-S", "-c", code],
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        capture_output=True,
        timeout=30,
        cwd="/",
    )


def test_a_non_root_client_is_refused_and_a_non_root_agent_not_used(start_container, agent):
    container = start_container("docker")
    assert agent.attach(container.name, "true").returncode == 0
    assert agent.pid() is not None
    ask = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
        f"s.connect(bytes.fromhex({agent.address.hex()!r}))\n"
        "sys.stdout.buffer.write(s.recv(4096))\n"
    )
    refused = as_nobody(ask)  # refused at once, on its credentials alone
    assert refused.returncode == 0, refused.stderr
    assert refused.stdout == b'{"error": "the agent serves root only"}'
    agent.end()
    # a non-root process holding the agent's name is not taken for the agent
    squat = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
        f"s.bind(bytes.fromhex({agent.address.hex()!r})); s.listen(8)\n"
        "print('ready', flush=True); sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [HOST_PYTHON, "-S", "-c", squat],
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd="/",
    ) as squatter:
        try:
            assert squatter.stdout is not None and squatter.stdout.readline() == b"ready\n"
            assert agent_client.status(agent.address) is None
            result = agent.attach(container.name, "sh", "-c", "echo ok")
            assert result.returncode == 0 and result.stdout == b"ok\n", result.stderr
        finally:
            squatter.kill()
    assert_nothing_left(container.pid)


def test_bad_requests_leave_the_agent_serving(start_container, agent):
    container = start_container("docker")
    assert agent.attach(container.name, "true").returncode == 0
    pid = agent.pid()
    assert pid is not None
    for message in (b"not json", b'{"op": "server", "argv": 1}', b"[1, 2]", b""):
        link = agent_client.connect(agent.address)
        assert link is not None
        link.sock.send(message)
        link.sock.settimeout(5)
        assert link.sock.recv(4096) == b""  # closed without an answer
        link.close()
    assert agent.pid() == pid
    result = agent.attach(container.name, "sh", "-c", "echo ok")
    assert result.returncode == 0 and result.stdout == b"ok\n", result.stderr
    assert agent_client.status(agent.address)["served"] == 2


def test_a_word_that_names_no_container_leaves_no_agent(agent):
    """Bad input leaves nothing behind: the agent the command started right after its
    parse is stopped again when the look-up fails."""
    assert agent.pid() is None
    done = agent.attach("cntr-test-no-such-container", "true")
    assert done.returncode != 0
    said = done.stderr.decode().strip().splitlines()
    assert len(said) == 1 and said[0].startswith("cntr-tui: "), said
    assert not agent.listening(), "an agent outlived the failed command"
