"""A front end at the engine's level, in a process of its own that a test can SIGKILL:
open_debug on a container (as the TUI does), gdb's console commands, then a wait for a
stop. Once stopped it prints one JSON line and waits until it is killed:

    {"processes": {HOST_PID: PID_AS_GDB_SEES_IT, ...},   # every process gdb holds
     "stopped": HOST_PID, "address": PC}                 # where the stop is

    python -m tests.support.engine_host SPEC_JSON
    SPEC: {"word": ..., "runtime": ..., "follow": "parent"|"child", "detach": bool,
           "commands": [console commands before the stop], "timeout": s,
           "until": "stopped" (the default) | "running" (print once `continue` ran)}

Errors go to stderr, exit status 1.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace

from cntr_tui.attach.lookup import resolve
from cntr_tui.debug.service import open_debug
from cntr_tui.debug.target import target_for
from cntr_tui.gdb.settings import ForkOptions


async def host(spec: dict) -> None:
    container = resolve(spec["word"], [spec["runtime"]], warn=lambda message: None)
    target = target_for(container)
    forks = ForkOptions(spec.get("follow", "parent"), spec.get("detach", True))
    target = replace(target, forks=forks)
    session = await open_debug(target)
    gdb = session.gdb
    for command in spec["commands"]:
        if command == "continue":
            done = await gdb.continue_()
            if not done.ok:
                raise RuntimeError(f"continue: {done.error}")
            continue
        said = await gdb.cli(command)
        if not said.ok:
            raise RuntimeError(f"{command}: {said.error}")
    stop = None
    if spec.get("until", "stopped") == "stopped":
        stop = (await gdb.wait_stopped(spec.get("timeout", 60))).unwrap()
    processes = {}
    for pid in gdb.processes.values():
        if pid is not None:
            processes[gdb._host_pid_of(pid)] = pid
    line = {
        "processes": processes,
        "stopped": gdb.target_host_pid,
        "address": stop.frame.address if stop and stop.frame else None,
        "reason": stop.reason if stop else None,
        "tracer": gdb.tracer,
    }
    print(json.dumps(line), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    try:
        asyncio.run(host(json.loads(sys.argv[1])))
    except Exception as error:  # one line for the test's failure message
        print(f"engine_host: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
