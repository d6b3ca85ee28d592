"""Issue 16: listing a Go program's goroutines inside an attached session (the Go
runtime's runtime-gdb.py and our helper in gdb, languages/go.py) beside Delve, the
other tool the issue names, in the same run.

    .venv/bin/python bench/bench_goroutines.py [--runs N] [--runtime process|docker]

The program is demo/programs/goroutines.go (10 goroutines) in the slim Go root. Each run
starts a container, then in alternating order: ours (attach a session; the first list,
which loads the runtime's gdb support; a later list; one goroutine's stack; then Delve
tried while our gdb traces the process) and Delve alone (`dlv attach --headless`, one
ListGoroutines over its JSON-RPC API, detach). A session is already attached when the
debugger or a snapshot lists goroutines, so the figure to weigh against Delve's is ours
without the attach: Delve cannot attach while gdb traces (only one tracer can).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, Stats, compile_bytecode, report

LISTEN = re.compile(r"127\.0\.0\.1:(\d+)")


def rpc(sock: socket.socket, method: str, params: dict[str, object]) -> dict[str, object]:
    sock.sendall(json.dumps({"method": method, "params": [params], "id": 1}).encode())
    data = b""
    while True:
        data += sock.recv(1 << 20)
        try:
            answer: dict[str, object] = json.loads(data)
            return answer
        except json.JSONDecodeError:
            continue


def delve_list(pid: int) -> float:
    """Delve's attach, one ListGoroutines and its detach (s)."""
    started = time.monotonic()
    dlv = subprocess.Popen(
        ["dlv", "attach", str(pid), "--headless", "--api-version=2", "--listen=127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert dlv.stdout is not None
    found = LISTEN.search(dlv.stdout.readline())
    if found is None:
        raise RuntimeError(f"dlv did not listen: {dlv.stdout.read()[-300:]}")
    with socket.create_connection(("127.0.0.1", int(found[1]))) as sock:
        answer = rpc(sock, "RPCServer.ListGoroutines", {"Start": 0, "Count": 0})
        if "result" not in answer:
            raise RuntimeError(f"dlv: {answer}")
        rpc(sock, "RPCServer.Detach", {"Kill": False})
    dlv.wait(timeout=10)
    return time.monotonic() - started


async def ours(pid: int) -> tuple[float, float, float, str]:
    """The first list, a later list, one stack (s), and what Delve says meanwhile."""
    from cntr_tui.debug.target import namespace_pid
    from cntr_tui.gdb.attached import AttachLauncher
    from cntr_tui.gdb.session import GdbSession
    from cntr_tui.languages import go

    session = await GdbSession.start(await AttachLauncher.start(pid))
    try:
        if not (await session.attach(namespace_pid(pid), host_pid=pid)).ok:
            raise RuntimeError("attach failed")
        binary = go.go_binary(go.process_executable(pid))
        assert binary is not None
        started = time.monotonic()
        first = await go.list_goroutines(session, binary)
        loaded = time.monotonic()
        if first.missing:
            raise RuntimeError(first.missing)
        await go.list_goroutines(session, binary)
        again = time.monotonic()
        await go.goroutine_stack(session, binary, first.goroutines[-1].id)
        stack = time.monotonic()
        tried = subprocess.run(
            ["dlv", "attach", str(pid), "--headless", "--listen=127.0.0.1:0"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        said = (tried.stdout + tried.stderr).strip().splitlines()[-1:] or ["?"]
        refusal = [re.sub(r"pid \d+", "pid N", said[0])]
        await session.detach()
    finally:
        await session.close()
    return loaded - started, again - loaded, stack - again, refusal[0]


def measure(runtime: str, runs: int) -> list[Row]:
    from cntr_tui.demo import containers
    from cntr_tui.demo.go_root import PROGRAM, build_go_root
    from cntr_tui.linux.proc_status import tracer_pid

    first: list[float] = []
    later: list[float] = []
    stacks: list[float] = []
    delve: list[float] = []
    refusals: set[str] = set()
    root = build_go_root()
    for index in range(runs):
        started = containers.STARTERS[runtime](f"cntr-bench-go-{index}", root, PROGRAM)
        try:
            order = ["ours", "delve"] if index % 2 == 0 else ["delve", "ours"]
            for which in order:
                while tracer_pid(started.pid) != 0:
                    time.sleep(0.01)  # the other tool's detach, seen by the kernel
                if which == "ours":
                    loaded, again, stack, refusal = asyncio.run(ours(started.pid))
                    first.append(loaded)
                    later.append(again)
                    stacks.append(stack)
                    refusals.add(refusal)
                else:
                    delve.append(delve_list(started.pid))
        finally:
            started.remove()
    baseline = Stats.of(delve)
    name = "dlv attach + ListGoroutines + detach"
    note = f"Delve while our gdb traces: {'; '.join(sorted(refusals))}"
    return [
        Row(
            f"{runtime}: later goroutine list in a session",
            Stats.of(later),
            baseline,
            name,
            note=note,
        ),
        Row(f"{runtime}: first list (loads runtime-gdb.py)", Stats.of(first), baseline, name),
        Row(f"{runtime}: one goroutine's stack", Stats.of(stacks), baseline, name),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--runtime", default="process", choices=("process", "docker"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    compile_bytecode()
    return report(
        "Goroutines: our session against Delve", measure(args.runtime, args.runs), args.json
    )


if __name__ == "__main__":
    sys.exit(main())
