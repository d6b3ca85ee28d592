"""Where a merged root's server comes from (attach/spare_server.py) without the agent:
a Python started by the session (CNTR_TUI_AGENT=off), given the server's arguments on
its stdin. It must be found as the server it is (its command line names the module and
`--pid=N`, as the leftover checks look for it) and be torn down like one; the agent is
not started while the container's merged root is up; a bad word leaves no process with
its command's environment (the agent, started at the parse, carries none of it). The
agent's own tests: test_agent.py."""

from __future__ import annotations

import subprocess
import uuid

from cntr_tui.attach import agent_client, spare_server
from cntr_tui.attach.session import AttachSession
from cntr_tui.settings import Settings
from tests.runtime.test_agent import Agent
from tests.support.attach import (
    CLI,
    assert_nothing_left,
    cmdline,
    pid_namespace_members,
    server_processes,
    wait_until,
)
from tests.support.proc import processes_with_environment


def test_a_root_started_without_the_agent_is_its_server_and_leaves_nothing(
    start_container, monkeypatch
):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    monkeypatch.setenv("CNTR_TUI_AGENT", "off")
    with AttachSession(container.pid) as session:
        assert session.root is not None
        server = session.root.server
        line = cmdline(server).split(b"\0")
        assert line[1:3] == [b"-m", b"cntr_tui.fs.server_process"]
        assert f"--pid={container.pid}".encode() in line
        assert server in server_processes(container.pid)
        assert session.run(["true"]) == 0
    assert_nothing_left(container.pid, members)


def test_no_agent_started_while_the_root_is_up(start_container, monkeypatch):
    container = start_container("docker")
    agent = Agent()
    try:
        monkeypatch.setenv("CNTR_TUI_AGENT", agent.env["CNTR_TUI_AGENT"])
        with AttachSession(container.pid):
            agent.end()  # the session started one
            spare_server.start(str(container.pid))
            assert not agent.listening()
        spare_server.start(str(container.pid))  # released: cold again
        assert wait_until(agent.listening)  # it binds its name first thing
    finally:
        agent.end()
    assert agent_client.status(agent.address) is None
    assert agent_client.agent_address(Settings.from_environment({"CNTR_TUI_AGENT": "off"})) is None


def test_cli_attach_cold_leaves_nothing_and_a_bad_word_no_process_of_its_environment(
    start_container,
):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    agent = Agent()
    try:
        result = subprocess.run(
            [*CLI, "attach", container.name, "--", "sh", "-c", "cat /proc/self/status >/dev/null"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            env=agent.env,
        )
        assert result.returncode == 0, result.stderr
        assert_nothing_left(container.pid, members)
        agent.end()
        marker = f"CNTR_TUI_SPARE_SERVER_TEST={uuid.uuid4().hex}"
        name, _, value = marker.partition("=")
        bad = subprocess.run(
            [*CLI, "attach", "no-such-container-cntr-spare-server", "--", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            env={**agent.env, name: value},
        )
        assert bad.returncode != 0 and bad.stderr.count(b"\n") == 1
        assert processes_with_environment(marker) == []
    finally:
        agent.end()
