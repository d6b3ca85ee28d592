"""Any process of the container from the app (issue 14): the details pane's process tree
is a picker (p focuses it, j/k move, enter debugs the process under the cursor). On a
real docker container and plain namespaces running the demo program twice (the second
copy started inside with `docker exec` / nsenter), the second is picked: gdb traces it
(its TracerPid), the debugger's threads are its threads (their LWPs are its tasks as
its PID namespace numbers them), the first stays untraced; after esc both run free.

And into a forked child: on a server that forks a child_work worker every 100 ms
(tests/runtime/programs/fork_workers.c), alt+f makes gdb follow the child at the next
fork; `break child_work` and continue stop in a child (traced, its LWP not the
server's), the server runs on untraced; after esc neither is traced or trapped."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

import pytest

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.containers import ContainersScreen
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.debug.target import host_pid_of
from cntr_tui.demo.containers import StartedContainer
from cntr_tui.gdb.trap_rescue import traps_in
from cntr_tui.widgets.container_details import ContainerDetails
from tests.runtime.test_app import (
    ATTACH_DEADLINE,
    SIZE,
    attached_debugger,
    containers_screen,
    select,
    type_in_console,
    wait_for,
)
from tests.runtime.test_gdb_follow_fork import children_of, forks_of
from tests.support.fake_debug import Recorder
from tests.support.fork_root import PROGRAM, build_fork_root
from tests.support.proc import (
    namespace_pid,
    processes_in_pid_namespace_of,
    running,
    tracer_of,
    wait_until,
)

RUNTIMES = ["docker", "process"]


@contextlib.contextmanager
def second_copy(container: StartedContainer, program: str = "/app/threads") -> Iterator[int]:
    """`program` started once more inside `container` (docker exec, or nsenter into its
    mount and PID namespaces and root): its host PID once it said ready."""
    if container.runtime == "docker":
        command = ["docker", "exec", container.name, program]
    else:
        command = ["nsenter", "-t", str(container.pid), "-m", "-p", "-r", program]
    before = processes_in_pid_namespace_of(container.pid, os.path.basename(program))
    entered = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert entered.stdout is not None
        assert entered.stdout.readline().startswith(b"ready")
        found = processes_in_pid_namespace_of(container.pid, os.path.basename(program)) - before
        [host_pid] = found
        yield host_pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            if container.runtime != "docker":
                os.kill(host_pid, 9)
        entered.kill()
        entered.wait()


def namespace_tids(host_pid: int) -> set[int]:
    """The process's threads as its PID namespace numbers them."""
    return {namespace_pid(int(tid)) for tid in os.listdir(f"/proc/{host_pid}/task")}


def shown_pids(details: ContainerDetails) -> set[int]:
    tree = details.processes
    if not tree.display:
        return set()
    found, stack = set(), list(tree.root.children)
    while stack:
        node = stack.pop()
        if node.data is not None:
            found.add(node.data.pid)
        stack.extend(node.children)
    return found


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_the_process_tree_picks_a_second_process_to_debug(runtime, start_container) -> None:
    started = start_container(runtime)
    with second_copy(started) as second:
        recorder = Recorder()
        app = CntrApp()
        async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
            await select(pilot, app, started)
            details = containers_screen(app).query_one(ContainerDetails)
            await wait_for(
                pilot,
                lambda: {started.pid, second} <= shown_pids(details),
                "both processes in the tree",
                15,
            )
            await pilot.press("p")
            assert app.focused is details.processes
            assert details.picked() is not None and details.picked().pid == started.pid
            for _ in range(8):  # j down the tree to the second copy
                if details.picked() is not None and details.picked().pid == second:
                    break
                await pilot.press("j")
            picked = details.picked()
            assert picked is not None and picked.pid == second
            assert table_row_kept(app, started)  # j moved the tree's cursor, not the list's
            # the list's refresh (every few seconds) reads the facts again: the tree is
            # built anew, the cursor stays on the picked process and the focus in the tree
            first_node = details.processes.root.children[0]
            containers_screen(app).table.rebuild()
            await wait_for(
                pilot,
                lambda: (
                    details.processes.root.children
                    and details.processes.root.children[0] is not first_node
                ),
                "the tree built again",
                10,
            )
            await pilot.pause()
            assert app.focused is details.processes
            picked = details.picked()
            assert picked is not None and picked.pid == second
            await pilot.press("enter")
            await wait_for(
                pilot, lambda: recorder.count(DebuggerScreen.Attached), "attach", ATTACH_DEADLINE
            )
            screen = app.screen
            assert isinstance(screen, DebuggerScreen)
            assert screen.link.session is not None
            target = screen.link.session.target
            assert (target.host_pid, target.namespace_pid) == (second, namespace_pid(second))
            assert f"PID {namespace_pid(second)}" in screen.status.context
            assert tracer_of(second) != 0
            assert tracer_of(started.pid) == 0, "the first copy is left alone"
            # the threads pane lists the second copy's threads, each with its stack
            assert {thread.lwp for thread in screen.threads} == namespace_tids(second)
            assert namespace_tids(second).isdisjoint(namespace_tids(started.pid))
            await wait_for(pilot, lambda: screen.frames.get(screen.thread_id or -1), "a stack", 10)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list", 20)
        assert wait_until(lambda: tracer_of(second) == 0), "the second copy is still traced"
        assert tracer_of(started.pid) == 0
        assert traps_in(second) == {} and traps_in(started.pid) == {}


def table_row_kept(app: CntrApp, started: StartedContainer) -> bool:
    selected = containers_screen(app).table.selected
    return selected is not None and selected.pid == started.pid


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_alt_f_follows_a_forked_child_into_its_breakpoint(runtime, start_container) -> None:
    started = start_container(runtime, program=PROGRAM, root=build_fork_root())
    parent = started.pid
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await attached_debugger(pilot, app, started, recorder)
        await pilot.press("alt+f")
        await wait_for(pilot, lambda: "follows the child" in screen.status.state, "alt+f", 10)
        await pilot.press("colon")
        await wait_for(pilot, lambda: app.focused is screen.console.input, "the console", 5)
        await type_in_console(pilot, "break child_work")
        await wait_for(pilot, lambda: screen.breakpoints, "the breakpoint", 10)
        refreshed = recorder.count(DebuggerScreen.Refreshed)
        await type_in_console(pilot, "continue")
        await wait_for(
            pilot,
            lambda: (
                recorder.count(DebuggerScreen.Refreshed) > refreshed
                and not screen.running
                and (frame := screen.current_frame()) is not None
                and frame.function == "child_work"
            ),
            "the stop in child_work",
            30,
        )
        [thread] = screen.threads
        assert thread.lwp is not None and thread.lwp != namespace_pid(parent)
        child = host_pid_of(parent, thread.lwp)
        assert child in children_of(parent), "the stop is in a child of the server"
        assert tracer_of(child) != 0 and tracer_of(parent) == 0
        assert traps_in(parent) == {}
        counted = forks_of(parent)
        assert wait_until(lambda: forks_of(parent) > counted), "the server runs on"
        await pilot.press("escape")  # the console's focus
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list", 20)
    assert tracer_of(parent) == 0 and traps_in(parent) == {}
    assert wait_until(lambda: not running(child) or tracer_of(child) == 0)
    assert traps_in(child) == {}


def thread_states(host_pid: int) -> set[str]:
    states = set()
    for tid in os.listdir(f"/proc/{host_pid}/task"):
        with open(f"/proc/{host_pid}/task/{tid}/stat") as stat:
            states.add(stat.read().rpartition(")")[2].split()[0])
    return states


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_two_processes_at_once_alt_p_switches(runtime, start_container) -> None:
    """A second process attached from the console as gdb's inferior 2 (add-inferior,
    inferior 2, attach PID): the threads pane lists both processes' threads, alt+p
    makes the other one current (the panes show its thread and stack), c resumes both
    and i (a SIGINT to the current one) stops both; esc lets both go."""
    started = start_container(runtime)
    first = started.pid
    with second_copy(started) as second:
        recorder = Recorder()
        app = CntrApp()
        async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
            screen = await attached_debugger(pilot, app, started, recorder)
            await pilot.press("colon")
            await wait_for(pilot, lambda: app.focused is screen.console.input, "the console", 5)
            refreshed = recorder.count(DebuggerScreen.Refreshed)
            for command in ("add-inferior", "inferior 2", f"attach {namespace_pid(second)}"):
                await type_in_console(pilot, command)
            both = namespace_tids(first) | namespace_tids(second)
            await wait_for(
                pilot,
                lambda: (
                    recorder.count(DebuggerScreen.Refreshed) > refreshed
                    and {thread.lwp for thread in screen.threads} == both
                ),
                "both processes' threads listed",
                30,
            )
            assert tracer_of(first) != 0 and tracer_of(second) != 0
            await pilot.press("escape")  # out of the console

            def current_lwp() -> int | None:
                found = [t.lwp for t in screen.threads if t.id == screen.thread_id]
                return found[0] if found else None

            for pid in (first, second):  # inferior 2 (the second) is current: 1, then 2
                await pilot.press("alt+p")
                await wait_for(
                    pilot,
                    lambda p=pid: f"process {namespace_pid(p)} is the" in screen.status.state,
                    f"alt+p to {pid}",
                    10,
                )
                assert current_lwp() in namespace_tids(pid)
                frames = screen.frames.get(screen.thread_id or -1)
                assert frames, "the current thread's stack"
            await pilot.press("c")  # both run (schedule-multiple), i stops both
            await wait_for(pilot, lambda: screen.running, "running", 10)
            for pid in (first, second):
                assert wait_until(lambda p=pid: "t" not in thread_states(p)), thread_states(pid)
            await pilot.press("i")
            await wait_for(pilot, lambda: not screen.running, "the interrupt's stop", 30)
            for pid in (first, second):
                assert wait_until(lambda p=pid: thread_states(p) == {"t"}), thread_states(pid)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list", 20)
        for pid in (first, second):
            assert wait_until(lambda p=pid: tracer_of(p) == 0), f"{pid} still traced"
            assert wait_until(lambda p=pid: thread_states(p) <= {"S", "R"}), thread_states(pid)
            assert traps_in(pid) == {}
