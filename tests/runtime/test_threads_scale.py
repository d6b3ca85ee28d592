"""The threads pane of the real app with many threads, through real containers and gdb:
1,000 threads in docker (the demo's /app/stalls with 998 workers) grouped so that the
groups add up to every thread, the workers' group sleeping where they do; and a program
that starts threads while it runs (tests/runtime/programs/thread_pool.c, plain
namespaces): each stop lists every thread the kernel has, also when the list of the
stop before was kept. No timing here: bench/bench_threads_scale.py measures."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.demo import containers
from cntr_tui.widgets.thread_groups import ThreadGroup
from cntr_tui.widgets.threads import ThreadsTree
from tests.runtime.test_app import SIZE, attached_debugger, wait_for
from tests.support.fake_debug import Recorder
from tests.support.proc import wait_until
from tests.support.runtimes import TEST_PREFIX, StartContainer, require_runtime

THREADS = 1000
DEADLINE = 300.0  # 1,000 threads through gdbserver on a loaded 2-CPU machine
POOL, LATE = 40, 3000  # thread_pool.c's arguments: one more thread each 20 ms, for a minute
SOURCE = Path(__file__).parent / "programs/thread_pool.c"


def tasks(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def top_level(tree: ThreadsTree) -> list[ThreadGroup]:
    groups = tree.shown_groups()
    ids = [thread.id for group in groups for thread in group.threads]
    assert len(ids) == len(set(ids)), "a thread in two groups"
    return groups


def counted(tree: ThreadsTree) -> int:
    """The threads the pane's top level holds, from the groups' titles and single rows."""
    return sum(
        int(group.title().split()[0]) if len(group.threads) > 1 else 1 for group in top_level(tree)
    )


@pytest.fixture
def stalls_1000(demo_rootfs: Path) -> Iterator[containers.StartedContainer]:
    require_runtime("docker")
    name = f"{TEST_PREFIX}threads-{uuid.uuid4().hex[:8]}"
    tag = containers.ensure_image("docker", demo_rootfs)
    try:
        containers.run(
            "docker", "run", "-d", "--name", name, "--network", "none", tag,
            "/app/stalls", str(THREADS - 2),
        )  # fmt: skip
        pid = int(containers.run("docker", "inspect", "-f", "{{.State.Pid}}", name))
        assert wait_until(lambda: tasks(pid) == THREADS, timeout=60), tasks(pid)
        yield containers.StartedContainer("docker", name, pid, lambda: None)
    finally:
        containers.quiet("docker", "rm", "-f", name)


async def stop(pilot: Pilot[None], screen: DebuggerScreen, recorder: Recorder) -> None:
    """`c`, then `i`: the panes after the stop."""
    await pilot.press("c")
    await wait_for(pilot, lambda: screen.running, "running", DEADLINE)
    refreshed = recorder.count(DebuggerScreen.Refreshed)
    await pilot.press("i")
    await wait_for(
        pilot,
        lambda: recorder.count(DebuggerScreen.Refreshed) > refreshed and not screen.running,
        "the stop",
        DEADLINE,
    )


async def test_a_thousand_threads_in_groups_that_add_up(stalls_1000) -> None:
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await attached_debugger(pilot, app, stalls_1000, recorder)
        tree = screen.query_one(ThreadsTree)
        for round_ in (1, 2):
            grouped = recorder.count(ThreadsTree.StacksGrouped)
            if round_ == 2:  # a stop with the list kept: grouped by name until read
                await stop(pilot, screen, recorder)
                assert counted(tree) == THREADS == tasks(stalls_1000.pid)
            await wait_for(
                pilot,
                lambda n=grouped: recorder.count(ThreadsTree.StacksGrouped) > n,
                "every stack read",
                DEADLINE,
            )
            groups = top_level(tree)
            assert counted(tree) == THREADS == tasks(stalls_1000.pid)
            assert sum(len(group.threads) for group in groups) == THREADS
            # the workers sleep in spin(); one woken at the stop has a stack of its own
            largest = max(groups, key=lambda group: len(group.threads))
            assert largest.whole and len(largest.threads) > THREADS // 2
            assert "clock_nanosleep" in largest.stack[0]
            assert largest.stack[largest.stack.index("spin") + 1] == "worker_main"
            assert largest.title().startswith(f"{len(largest.threads)} threads in ")
            workers = [
                thread for group in groups if "spin" in group.stack for thread in group.threads
            ]
            assert len(workers) == THREADS - 2
            assert all(thread.name.startswith("worker-") for thread in workers)
            # main (in pause) and the ticker (in tick_forever)
            assert (
                sum(1 for group in groups for _ in group.threads if "spin" not in group.stack) == 2
            )
            assert any("tick_forever" in group.stack for group in groups)
        await app.action_quit()


@pytest.fixture(scope="module")
def pool_root(demo_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo root with /app/thread_pool."""
    root = tmp_path_factory.mktemp("pool") / "rootfs"
    shutil.copytree(demo_rootfs, root, symlinks=True)
    subprocess.run(
        ["gcc", "-g", "-O0", "-pthread", "-o", str(root / "app/thread_pool"), str(SOURCE)],
        check=True,
    )
    return root


async def test_threads_started_while_running_are_listed_at_the_next_stop(
    start_container: StartContainer, pool_root: Path
) -> None:
    started = start_container("process", f"/app/thread_pool {POOL} {LATE}", root=pool_root)
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await attached_debugger(pilot, app, started, recorder)
        tree = screen.query_one(ThreadsTree)
        await wait_for(pilot, lambda: tree.thread_count() > POOL, "the threads", DEADLINE)
        assert counted(tree) == tasks(started.pid)
        for _ in range(3):  # the program starts one every 20 ms while it runs
            before = tasks(started.pid)
            await pilot.press("c")
            await wait_for(pilot, lambda: screen.running, "running", DEADLINE)
            await wait_for(
                pilot, lambda b=before: tasks(started.pid) > b + 2, "new threads", DEADLINE
            )
            refreshed = recorder.count(DebuggerScreen.Refreshed)
            grouped = recorder.count(ThreadsTree.StacksGrouped)
            await pilot.press("i")
            await wait_for(
                pilot,
                lambda n=refreshed: (
                    recorder.count(DebuggerScreen.Refreshed) > n and not screen.running
                ),
                "the stop",
                DEADLINE,
            )
            assert counted(tree) == tree.thread_count() == tasks(started.pid) > before
        await wait_for(
            pilot,
            lambda: recorder.count(ThreadsTree.StacksGrouped) > grouped,
            "every stack read",
            DEADLINE,
        )
        groups = top_level(tree)
        assert counted(tree) == tasks(started.pid)

        def in_function(name: str) -> int:
            """Threads whose stack holds it (one woken at the stop is a group of its own)."""
            return sum(len(group.threads) for group in groups if name in group.stack)

        assert in_function("pool_wait") == POOL
        assert in_function("late_wait") == tasks(started.pid) - POOL - 1  # all but main
        await app.action_quit()
