"""Threads grouped by stack in the threads pane: the grouping itself, then the pane on
the fake session with 40 threads (no root, no gdb): grouped by top frame (or by name
with the thread list kept from the stop before) until the stacks are read after the
stop, then by whole stack, counts adding up; the kept list and what drops it; the F
filter. The real app with 1,000 threads: tests/runtime/test_threads_scale.py and
bench/bench_threads_scale.py."""

from __future__ import annotations

from dataclasses import replace

from textual.pilot import Pilot

from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.gdb.events import ThreadCreated
from cntr_tui.gdb.records import Frame, Thread
from cntr_tui.widgets.thread_groups import GROUP_FROM, ThreadGroup, group_threads, thread_matches
from cntr_tui.widgets.threads import ThreadsTree
from tests.support.fake_debug import LIBC, MAIN_STACK, THREADS
from tests.unit.test_screens import (
    World,
    debugger_on_web,
    settings,
    stopped_after,
    until,
    world,
)

__all__ = ["settings", "world"]  # the fixtures, from the screens' tests


def stack(*functions: str) -> tuple[Frame, ...]:
    return tuple(
        Frame(level, 0x1000 + level, name, library=LIBC) for level, name in enumerate(functions)
    )


SLEEPER = stack("clock_nanosleep", "sleeper", "start_thread", "clone3")
POLLER = stack("clock_nanosleep", "poller", "start_thread", "clone3")
LONER = stack("epoll_wait", "event_loop", "start_thread", "clone3")


def thread(number: int, name: str, frames: tuple[Frame, ...]) -> Thread:
    return Thread(number, f"LWP {number + 100}", number + 100, name, "stopped", frames[0])


def many() -> tuple[list[Thread], dict[int, tuple[Frame, ...]]]:
    """main (thread 1), 30 sleepers (2-31), 8 pollers (32-39), one event loop (40)."""
    threads = [thread(1, "main", MAIN_STACK)]
    stacks: dict[int, tuple[Frame, ...]] = {1: MAIN_STACK}
    for number in range(2, 41):
        frames = SLEEPER if number < 32 else POLLER if number < 40 else LONER
        name = "sleeper" if number < 32 else "poller" if number < 40 else "loop"
        threads.append(thread(number, f"{name}-{number}", frames))
        stacks[number] = frames
    return threads, stacks


def test_groups_by_top_frame_until_stacks_are_read_then_by_whole_stack() -> None:
    threads, stacks = many()
    by_top = group_threads(threads, {})
    assert [(len(g.threads), g.stack, g.whole) for g in by_top] == [
        (39, ("clock_nanosleep",), False),  # main sleeps in clock_nanosleep too
        (1, ("epoll_wait",), False),
    ]
    whole = group_threads(threads, stacks)
    assert [(len(g.threads), g.stack[1] if len(g.stack) > 1 else None) for g in whole] == [
        (30, "sleeper"),
        (8, "poller"),
        (1, "main"),
        (1, "event_loop"),
    ]
    assert sorted(t.id for g in whole for t in g.threads) == list(range(1, 41))
    assert whole[0].title() == "30 threads in clock_nanosleep <- sleeper <- start_thread <- …"
    assert by_top[0].title().endswith("(top frame; stacks not read yet)")


def test_a_thread_whose_stack_is_read_leaves_its_top_frame_group() -> None:
    threads, stacks = many()
    groups = group_threads(threads, {5: stacks[5]})
    sizes = {(g.whole, g.stack[:2]): len(g.threads) for g in groups}
    assert sizes[(False, ("clock_nanosleep",))] == 38
    assert sizes[(True, ("clock_nanosleep", "sleeper"))] == 1


def test_the_filter_looks_in_number_name_state_and_functions() -> None:
    threads, stacks = many()
    poller = threads[35]
    assert thread_matches(poller, stacks[36], "poller")  # name and function
    assert thread_matches(poller, None, "POLLER") is False  # a capital: case counts
    assert thread_matches(poller, stacks[36], "start_thread")
    assert not thread_matches(poller, stacks[36], "event_loop")
    assert thread_matches(poller, None, "clock_nano")  # the top frame, stack unread
    assert thread_matches(poller, None, "36") and thread_matches(poller, None, "stopped")
    assert ThreadGroup(("a",), (poller,), True).ids == (36,)


def world_of_many(world: World) -> World:
    threads, stacks = many()
    world.engine.thread_list = tuple(threads)
    world.engine.stacks.update(stacks)
    return world


def top_level_sizes(tree: ThreadsTree) -> list[tuple[int, str]]:
    return [(len(g.threads), g.title() if len(g.threads) > 1 else "") for g in tree.shown_groups()]


async def test_the_pane_groups_forty_threads_then_reads_every_stack(world: World) -> None:
    """The attach's stop lists the threads with their top frames; after the panes are
    drawn every stack is read (the largest group first) and the groups split by stack."""
    assert len(many()[0]) >= GROUP_FROM > len(THREADS)
    world_of_many(world)
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        tree = screen.query_one(ThreadsTree)
        await until(pilot, lambda: world.recorder.count(ThreadsTree.StacksGrouped), "stacks")
        assert top_level_sizes(tree) == [
            (30, "30 threads in clock_nanosleep <- sleeper <- start_thread <- …"),
            (8, "8 threads in clock_nanosleep <- poller <- start_thread <- …"),
            (1, ""),
            (1, ""),
        ]
        assert sorted(t.id for g in tree.shown_groups() for t in g.threads) == list(range(1, 41))
        # thread 1's by the screen, the 39 others by the read after the stop, each once
        assert sorted(args[0] for args in world.engine.called("backtrace")) == list(range(1, 41))
        assert tree.thread_count() == 40 and tree.unread_in_order() == []

        tree.focus()
        await pilot.press("F", *"poller")
        await until(pilot, lambda: tree.thread_count() == 8, "the filter")
        assert tree.group_count() == 1
        await pilot.press("escape")
        await until(pilot, lambda: tree.thread_count() == 40, "the filter cleared")
        assert not tree.query(".thread-filter")


async def running_after_c(pilot: Pilot[None], screen: DebuggerScreen) -> None:
    await pilot.press("c")
    await until(pilot, lambda: screen.running, "running")


async def test_a_stop_keeps_the_thread_list_unless_a_thread_came_or_went(world: World) -> None:
    """From GROUP_FROM threads on, a stop reuses the list of the stop before (gdb's
    -thread-info costs every thread's registers) unless gdb said a thread was created
    or exited; until the stacks are read the kept threads are grouped by name."""
    world_of_many(world)
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        tree = screen.query_one(ThreadsTree)
        grouped = world.recorder.count
        await until(pilot, lambda: grouped(ThreadsTree.StacksGrouped) == 1, "stacks")
        listed = len(world.engine.called("threads"))
        names = [g.title() for g in group_threads([replace(t, frame=None) for t in many()[0]], {})]
        assert names[:2] == [
            "30 threads named sleeper-# (stacks not read yet)",
            "8 threads named poller-# (stacks not read yet)",
        ]
        await running_after_c(pilot, screen)
        await stopped_after(pilot, screen, world.recorder, "i")
        assert len(world.engine.called("threads")) == listed  # the kept list
        assert tree.thread_count() == 40
        await until(pilot, lambda: grouped(ThreadsTree.StacksGrouped) == 2, "stacks again")
        assert [size for size, _ in top_level_sizes(tree)] == [30, 8, 1, 1]

        # a thread created while the program ran: gdb says so before the stop
        world.engine.thread_list = (*world.engine.thread_list, thread(41, "loop-41", LONER))
        world.engine.stacks[41] = LONER
        await running_after_c(pilot, screen)
        world.engine.emit(ThreadCreated(41))
        await stopped_after(pilot, screen, world.recorder, "i")
        assert len(world.engine.called("threads")) == listed + 1
        assert tree.thread_count() == 41
        await until(pilot, lambda: grouped(ThreadsTree.StacksGrouped) == 3, "stacks, 41")
        assert [size for size, _ in top_level_sizes(tree)] == [30, 8, 2, 1]
