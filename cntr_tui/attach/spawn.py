"""Starting one session command: its helper (`helper_process`, a spare's or one of its
own) gets the plan, and `PendingSpawn.result` waits for the command's start.

A helper of its own gets the command's stdio, the session's hold and `pass_fds` from
Popen, at their numbers; a spare, already running, gets them as SCM_RIGHTS descriptors
with the plan, which names where each goes (`plan["install"]`).
"""

from __future__ import annotations

import array
import contextlib
import marshal
import os
import socket
import subprocess
from typing import Any

from cntr_tui.attach.spare import SessionProcess, StdioArg, seqpacket_pair, start_helper
from cntr_tui.errors import UserError

HELPER_TIMEOUT = 30.0

SessionProcesses = list[tuple[SessionProcess, socket.socket]]


def abandon(helper: SessionProcess, channel: socket.socket) -> None:
    """A helper whose command did not start: wait for its end, close our ends."""
    channel.close()
    helper.wait()
    for stream in (helper.stdin, helper.stdout, helper.stderr):
        if stream is not None:
            stream.close()


class PendingSpawn:
    """A command whose helper has its plan (`AttachSession.begin_spawn`); once started,
    it joins `processes` (the session's, which ends them on close)."""

    def __init__(
        self, processes: SessionProcesses, helper: SessionProcess, channel: socket.socket
    ) -> None:
        self._processes = processes
        self._helper = helper
        self._channel = channel

    def result(self) -> SessionProcess:
        """Blocking: the helper once the command has started (`command_pid` set). Raises
        UserError, with the helper's one-line reason, when it did not start."""
        helper, ours = self._helper, self._channel
        ours.settimeout(HELPER_TIMEOUT)
        try:
            answer = ours.recv(65536)
            reply = marshal.loads(answer) if answer else {"error": "the attach helper died"}
        except (OSError, ValueError, EOFError, TypeError):
            reply = {"error": "the attach helper did not answer"}
        ours.settimeout(None)
        if "error" in reply:
            abandon(helper, ours)
            raise UserError(str(reply["error"]), int(reply.get("code", 1)))
        helper.command_pid = int(reply["started"])
        self._processes.append((helper, ours))
        return helper


def send_with_descriptors(
    channel: socket.socket, plan: dict[str, Any], stdio: tuple[StdioArg, StdioArg, StdioArg]
) -> None:
    """Send a spare its plan with the descriptors Popen would have given it: the
    command's stdio, the hold and pass_fds; `plan["install"]` says where each goes."""
    with contextlib.ExitStack() as opened:
        descriptors = [stdio_descriptor(stdio[0], 0, opened)]
        descriptors.append(stdio_descriptor(stdio[1], 1, opened))
        if stdio[2] == subprocess.STDOUT:
            descriptors.append(descriptors[1])
        else:
            descriptors.append(stdio_descriptor(stdio[2], 2, opened))
        targets = [0, 1, 2]
        for helper_only in (plan["hold_fd"], plan["devpts_fd"]):
            if helper_only is not None:
                targets.append(helper_only)
        targets += plan["pass_fds"]
        descriptors += targets[3:]  # ours, at the numbers the command gets
        plan["install"] = targets
        rights = array.array("i", descriptors).tobytes()
        channel.sendmsg([marshal.dumps(plan)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])


def stdio_descriptor(arg: StdioArg, ours: int, opened: contextlib.ExitStack) -> int:
    """The descriptor a Popen stdio argument stands for (None: our own `ours`)."""
    if arg is None:
        return ours
    if arg == subprocess.DEVNULL:
        null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        opened.callback(os.close, null)
        return null
    if isinstance(arg, int):
        if arg < 0:
            raise ValueError(f"stdio argument {arg} cannot go to a spare helper")
        return arg
    return arg.fileno()


def start_own_helper(
    plan: dict[str, Any],
    stdin: StdioArg,
    stdout: StdioArg,
    stderr: StdioArg,
    own_session: bool = False,
) -> tuple[SessionProcess, socket.socket]:
    """A helper of its own for this command: Popen gives it the stdio, the hold and
    pass_fds at their numbers."""
    ours, theirs = seqpacket_pair()
    passed = list(plan["pass_fds"])
    for helper_only in (plan["hold_fd"], plan["devpts_fd"]):
        if helper_only is not None:
            passed.append(helper_only)
    try:
        helper = start_helper(theirs, stdin, stdout, stderr, passed, own_session)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return helper, ours
