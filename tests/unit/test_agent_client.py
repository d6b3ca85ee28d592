"""The agent's client side without an agent: its address, its settings, and how a
command tells a server still starting from none at all when the agent dies mid-request."""

from __future__ import annotations

import os
import subprocess
import sys

from cntr_tui.attach.agent_client import AgentServer, agent_address, writer_alive
from cntr_tui.settings import Settings


def test_the_address_is_abstract_per_install_and_name_and_off_is_none() -> None:
    default = agent_address(Settings.from_environment({}))
    assert default is not None and default.startswith(b"\0cntr-tui-agent-")
    assert agent_address(Settings.from_environment({"CNTR_TUI_AGENT": "on"})) == default
    named = agent_address(Settings.from_environment({"CNTR_TUI_AGENT": "tests-1"}))
    assert named == default + b"-tests-1"
    assert agent_address(Settings.from_environment({"CNTR_TUI_AGENT": "off"})) is None
    assert agent_address(Settings.from_environment({"CNTR_TUI_AGENT": "OFF"})) is None


def test_the_idle_time_is_a_positive_number_or_the_default() -> None:
    def idle(text: str) -> float:
        return Settings.from_environment({"CNTR_TUI_AGENT_IDLE": text}).agent_idle

    assert idle("2.5") == 2.5
    assert idle("soon") == idle("-1") == idle("0") == idle("") == 300.0


def test_a_pipe_still_held_by_a_writer_is_a_server_starting() -> None:
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    assert writer_alive(read_fd)  # held, nothing written yet
    os.write(write_fd, b'{"holder": 1}\n')
    os.close(write_fd)
    assert writer_alive(read_fd)  # a line came before the end
    assert AgentServer(None, read_fd).ready_line(1.0) == b'{"holder": 1}\n'  # closes it
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    os.close(write_fd)
    assert not writer_alive(read_fd)  # nobody holds it: no server
    assert AgentServer(None, read_fd).ready_line(1.0) == b""


def test_one_install_has_one_address_whichever_name_its_python_is_run_by() -> None:
    """The `cntr-tui` script runs the venv's `python3`, `python -m cntr_tui` and the
    benchmarks its `python`: both must reach (and `agent stop` must stop) one agent."""
    folder = os.path.dirname(sys.executable)
    names = [name for name in ("python", "python3") if os.path.exists(f"{folder}/{name}")]
    assert len(names) == 2, f"no python and python3 in {folder}"
    code = (
        "from cntr_tui.attach.agent_client import agent_address;"
        "from cntr_tui.settings import Settings;"
        "print(agent_address(Settings.from_environment({})))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    printed = {
        subprocess.run(
            [f"{folder}/{name}", "-c", code], cwd=root, capture_output=True, text=True, check=True
        ).stdout
        for name in names
    }
    assert len(printed) == 1, printed
