"""`cntr-tui agent status|stop`: the resident agent (attach/agent_process.py), which
keeps a file server's imports done for the next merged root a command starts.

status: one line (its PID, how long it has run, servers forked, idle seconds left until
it exits), exit 0; "no agent running", exit 3. stop: the agent ends (file servers it
forked serve their sessions on), exit 0 whether one ran or not. Root only.
"""

from __future__ import annotations

import os
import time

from cntr_tui.attach import agent_client
from cntr_tui.errors import UserError
from cntr_tui.settings import Settings

EXIT_NOT_RUNNING = 3


def run_agent(action: str) -> int:
    if os.geteuid() != 0:
        raise UserError("agent: the agent is root's: run as root")
    address = agent_client.agent_address(Settings.from_environment())
    if address is None:
        print("the agent is switched off (CNTR_TUI_AGENT=off)")
        return EXIT_NOT_RUNNING if action == "status" else 0
    if action == "stop":
        pid = agent_client.stop(address)
        print("no agent running" if pid is None else f"agent {pid} stopped")
        return 0
    state = agent_client.status(address)
    if state is None:
        print("no agent running")
        return EXIT_NOT_RUNNING
    print(
        f"agent {state['pid']} running for {time.time() - state['started']:.0f} s, "
        f"{state['served']} file servers forked, exits after {state['idle_left']:.0f} s idle"
    )
    return 0
