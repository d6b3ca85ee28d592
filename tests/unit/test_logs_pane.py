"""The logs pane (issue 14) hosted alone, driven by Pilot: times and streams, stop
markers, the unavailable line, the line limit, following the end unless scrolled up,
search, and a burst of many lines staying cheap."""

from __future__ import annotations

import time
from datetime import datetime

from textual.pilot import Pilot

from cntr_tui.widgets.logs import LogsPane
from cntr_tui.widgets.navigation import SearchBar
from tests.unit.test_navigation import Host, search
from tests.unit.test_screens import until

NOON = datetime(2026, 12, 2, 12, 30, 5, 123456).timestamp()
SIZE = (80, 16)  # the pane is 12 lines high (Host's CSS)


async def settled(pilot: Pilot[None], pane: LogsPane) -> None:
    await until(pilot, lambda: not pane.update_pending, "the lines drawn")
    await pilot.pause()


def colors_of(pane: LogsPane, y: int, text: str) -> set[str]:
    strip = pane.render_line(y)
    return {str(seg.style.color) for seg in strip if text in seg.text and seg.style}


async def test_times_streams_and_stop_markers() -> None:
    pane = LogsPane()
    app = Host(pane)
    async with app.run_test(size=SIZE) as pilot:
        pane.set_source("docker logs web")
        pane.append("worker 1 tick 7", "stdout", NOON)
        pane.append("warning: slow\n", "stderr", NOON + 1.5)
        pane.mark_stop("stopped: breakpoint 1 in tick, thread 3")
        pane.append("no time here", "stdout")
        pane.append("\x1b[31mred\x1b[0m and a bell\a\r", "stdout")  # a program's colours
        await settled(pilot, pane)
        assert pane.lines == [
            "12:30:05.123 worker 1 tick 7",
            "12:30:06.623 warning: slow",
            "── stopped: breakpoint 1 in tick, thread 3 ──",
            "no time here",
            "red and a bell",
        ]
        assert pane.border_title == "docker logs web" == pane.source_title
        stdout = colors_of(pane, 0, "worker")
        stderr = colors_of(pane, 1, "slow")
        stop = colors_of(pane, 2, "stopped")
        assert stdout != stderr and stderr != stop and stdout != stop
        assert colors_of(pane, 0, "12:30:05.123") != stdout  # the time is dimmed


async def test_unavailable_is_one_line_until_lines_come() -> None:
    pane = LogsPane()
    app = Host(pane)
    async with app.run_test(size=SIZE) as pilot:
        pane.append("old line")
        pane.unavailable("systemd-nspawn machine demo has no journal")
        await settled(pilot, pane)
        assert pane.lines == ["systemd-nspawn machine demo has no journal"]
        assert "no journal" in pane.render_line(0).text
        assert pane.render_line(1).text.strip() == ""
        pane.append("first real line")
        await settled(pilot, pane)
        assert pane.lines == ["first real line"]


async def test_keeps_the_last_lines_and_follows_the_end_unless_scrolled_up() -> None:
    pane = LogsPane(max_lines=100)
    app = Host(pane)
    async with app.run_test(size=SIZE) as pilot:
        pane.focus()
        pane.append_lines((f"line {n}", "stdout", None) for n in range(250))
        await settled(pilot, pane)
        assert len(pane.lines) == 100 and pane.lines[0] == "line 150"
        await until(pilot, lambda: pane.scroll_offset.y == pane.max_scroll_y > 0, "the end")
        assert "line 249" in pane.render_line(pane.scrollable_content_region.height - 1).text

        await pilot.press("pageup")  # the user scrolls up: new lines do not move the view
        top = pane.scroll_offset.y
        shown = pane.render_line(0).text
        assert top < pane.max_scroll_y and not pane.following
        pane.append_lines((f"more {n}", "stdout", None) for n in range(30))
        await settled(pilot, pane)
        # 30 lines dropped from the front: the view stays on the same lines
        assert pane.lines[0] == "line 180"
        assert pane.render_line(0).text == shown

        await pilot.press("G")  # back at the end: following again
        await until(pilot, lambda: pane.following, "following")
        pane.append("the newest")
        await settled(pilot, pane)
        await until(pilot, lambda: pane.scroll_offset.y == pane.max_scroll_y, "the end again")
        last = pane.scrollable_content_region.height - 1
        assert "the newest" in pane.render_line(last).text


async def test_search_marks_the_line_and_n_falls_through_without_a_search() -> None:
    pane = LogsPane()
    app = Host(pane)
    async with app.run_test(size=SIZE) as pilot:
        pane.focus()
        for n in range(200):
            pane.append(f"request {n}" + (" FAILED" if n in (40, 120) else " ok"), "stdout")
        await settled(pilot, pane)
        await pilot.press("n")
        assert app.pane.keys == ["next"]
        await pilot.press("g")
        await search(pilot, pane, "failed")
        await until(pilot, lambda: pane.marked_line == 40, "the first failure")
        await pilot.press("enter")
        await until(pilot, lambda: not pane.query(SearchBar), "the bar closed")
        await pilot.press("n")
        assert pane.marked_line == 120 and pane.search_status == "2/2"
        top = pane.scroll_offset.y
        assert top <= 120 < top + pane.scrollable_content_region.height
        assert "FAILED" in pane.render_line(120 - top).text
        await pilot.press("n")
        assert pane.marked_line == 40  # wrapped
        await pilot.press("escape")
        assert pane.marked_line is None and app.pane.keys == ["next"]


async def test_a_burst_of_many_lines_is_cheap() -> None:
    pane = LogsPane()
    app = Host(pane)
    async with app.run_test(size=SIZE) as pilot:
        start = time.perf_counter()
        for n in range(50_000):
            pane.append(f"burst line {n} with some text after it", "stdout", NOON + n)
        appended = time.perf_counter() - start
        await settled(pilot, pane)
        assert len(pane.lines) == 5000 and pane.lines[-1].endswith(
            "burst line 49999 with some text after it"
        )
        # ~0.2 s here; a per-line render or layout would take tens of seconds
        assert appended < 3.0, appended
        start = time.perf_counter()
        found = pane.matches("line 47777 ")
        assert found == [2777] and time.perf_counter() - start < 1.0
