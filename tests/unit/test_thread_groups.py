"""Threads grouped by stack in the threads pane: the grouping itself, then the pane on
the fake session with 40 threads (no root, no gdb): grouped by top frame until a group
is opened, split by whole stack once its members' backtraces are read, counts adding
up, and the F filter. The real-app check with 1,000 threads is bench/bench_tui.py's."""

from __future__ import annotations

from cntr_tui.gdb.records import Frame, Thread
from cntr_tui.widgets.thread_groups import GROUP_FROM, ThreadGroup, group_threads, thread_matches
from cntr_tui.widgets.threads import ThreadsTree
from tests.support.fake_debug import LIBC, MAIN_STACK, THREADS
from tests.unit.test_screens import World, debugger_on_web, settings, until, world

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


async def test_the_pane_groups_forty_threads_and_splits_a_group_opened(world: World) -> None:
    assert len(many()[0]) >= GROUP_FROM > len(THREADS)
    world_of_many(world)
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        tree = screen.query_one(ThreadsTree)
        await until(pilot, lambda: tree.thread_count() == 40, "the 40 threads")
        tops = [node for node in tree.root.children if isinstance(node.data, ThreadGroup)]
        assert [node.data.title() for node in tops] == [
            "39 threads in clock_nanosleep (top frame; stacks not read yet)"
        ]
        # thread 1, the stopped one, is in it: the group is open with every member listed
        assert tops[0].is_expanded and len(tops[0].children) == 39
        asked = len(world.engine.called("backtrace"))
        tops[0].collapse()
        tops[0].expand()
        await until(pilot, lambda: tree.group_count() == 2, "the group split by stack")
        assert len(world.engine.called("backtrace")) - asked == 38  # thread 1's was read
        titles = [
            node.data.title() for node in tree.root.children if isinstance(node.data, ThreadGroup)
        ]
        assert titles == [
            "30 threads in clock_nanosleep <- sleeper <- start_thread <- …",
            "8 threads in clock_nanosleep <- poller <- start_thread <- …",
        ]
        loners = [node.data.id for node in tree.root.children if isinstance(node.data, Thread)]
        assert sorted(loners) == [1, 40]
        assert tree.thread_count() == 40  # 30 + 8 + 2 single threads

        tree.focus()
        await pilot.press("F", *"poller")
        await until(pilot, lambda: tree.thread_count() == 8, "the filter")
        assert tree.group_count() == 1
        await pilot.press("escape")
        await until(pilot, lambda: tree.thread_count() == 40, "the filter cleared")
        assert not tree.query(".thread-filter")
