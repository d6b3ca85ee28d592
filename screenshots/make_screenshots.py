"""Screenshots of every screen, taken from the real app attached to a real demo container.

    sudo .venv/bin/python screenshots/make_screenshots.py [--runtime docker|process]

Starts a demo container, drives the app with Textual's Pilot (headless), saves an SVG
per screen with `App.save_screenshot`, renders each to PNG with `rsvg-convert`
(Debian: librsvg2-bin) or, failing that, cairosvg, and removes the container.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from cntr_tui.app.app import LIGHT_THEME, CntrApp
from cntr_tui.app.screens.containers import ContainersScreen
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.screens.files import FilesScreen
from cntr_tui.demo.availability import unavailable_reason
from cntr_tui.demo.containers import STARTERS, StartedContainer
from cntr_tui.demo.rootfs import build_rootfs
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.container_table import ContainerTable
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.file_tree import FileTree
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.logs import LogsPane
from cntr_tui.widgets.memory import MemoryView
from cntr_tui.widgets.registers import RegistersTable
from cntr_tui.widgets.source_view import SourceView
from cntr_tui.widgets.watch import WatchTree

HERE = Path(__file__).resolve().parent
SIZE = (150, 44)


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], what: str) -> None:
    end = time.monotonic() + 60
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"make_screenshots: timed out waiting for {what}")
        await pilot.pause(0.05)


def svg_to_png(svg: Path) -> Path | None:
    # Textual writes runs of spaces inside <text>; without xml:space="preserve" a
    # renderer may collapse them and columns drift.
    text = svg.read_text()
    if 'xml:space="preserve"' not in text:
        svg.write_text(text.replace("<svg ", '<svg xml:space="preserve" ', 1))
    png = svg.with_suffix(".png")
    if shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True)
        return png
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        print("make_screenshots: no rsvg-convert nor cairosvg; kept the SVG only")
        return None
    cairosvg.svg2png(url=str(svg), write_to=str(png))
    return png


async def take(app: CntrApp, pilot: Pilot[None], name: str) -> None:
    await pilot.pause(0.3)
    app.save_screenshot(f"{name}.svg", str(HERE))
    svg = HERE / f"{name}.svg"
    png = svg_to_png(svg)
    if png is not None:
        svg.unlink()  # the PNG is what the README shows
    print(f"wrote {png or svg}")


async def shoot(started: StartedContainer, source_root: Path) -> None:
    app = CntrApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ContainersScreen)
                and any(
                    c.pid == started.pid
                    for c in app.screen.query_one(ContainerTable).containers.values()
                )
            ),
            "the demo container in the list",
        )
        screen = app.screen
        table = screen.query_one(ContainerTable)
        container = next(c for c in table.containers.values() if c.pid == started.pid)
        table.select_container(container.key)
        await pilot.pause(0.5)
        await take(app, pilot, "containers")

        await pilot.press("question_mark")
        await take(app, pilot, "help")
        await pilot.press("escape")

        await pilot.press("g")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DebuggerScreen) and app.screen.attached,
            "the debugger to attach",
        )
        debugger = app.screen
        assert isinstance(debugger, DebuggerScreen)
        await wait_for(pilot, lambda: debugger.query_one(SourceView).current_line, "a source line")
        source = debugger.query_one(SourceView)
        threads_c = (source_root / "app/src/threads.c").read_text().splitlines()
        tick = next(i for i, line in enumerate(threads_c, 1) if "w->iterations++" in line)
        source.focus()
        source.cursor_line = tick
        await pilot.press("b")
        await wait_for(pilot, lambda: tick in source.breakpoint_lines, "the breakpoint")
        await pilot.press("c")
        await wait_for(pilot, lambda: source.current_line == tick, "the stop in tick")
        locals_tree = debugger.query_one(LocalsTree)
        await wait_for(pilot, lambda: locals_tree.root.children, "locals")
        for node in locals_tree.root.children:
            node.expand()
        debugger.query_one("#console-input").focus()
        await pilot.press(*"info threads", "enter")
        await pilot.pause(0.5)
        source.focus()
        await take(app, pilot, "debugger")

        await pilot.press("5")
        await take(app, pilot, "debugger-mounts")
        await new_panes(app, pilot, debugger)
        debugger.action_symbols()
        await pilot.pause(1.0)
        await take(app, pilot, "debugger-symbols")

        app.theme = LIGHT_THEME
        await pilot.press("1")
        await take(app, pilot, "debugger-light")
        app.theme = "textual-dark"

        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen), "the files screen")
        files = app.screen
        assert isinstance(files, FilesScreen)
        tree = files.query_one(FileTree)
        await wait_for(pilot, lambda: "app" in tree.child_names("/var/lib/cntr"), "/var/lib/cntr")
        files.reveal("/var/lib/cntr/app/src")
        await wait_for(
            pilot, lambda: "threads.c" in tree.child_names("/var/lib/cntr/app/src"), "src"
        )
        node = tree.node_for("/var/lib/cntr/app/src/threads.c")
        assert node is not None and node.data is not None
        tree.move_cursor(node)
        files.open_file(node.data)
        files.query_one(SourceView).cursor_line = 44
        await take(app, pilot, "files")

        await pilot.press("escape")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list")


async def new_panes(app: CntrApp, pilot: Pilot[None], debugger: DebuggerScreen) -> None:
    """Registers, disassembly with source, memory, a watch, the breakpoints of several
    kinds, the container's log: each pane's tab shown at the stop in tick."""
    await pilot.press("7")
    registers = debugger.query_one(RegistersTable)
    await wait_for(pilot, lambda: registers.value_of("rip"), "the registers")
    await take(app, pilot, "debugger-registers")

    await pilot.press("8")
    disassembly = debugger.query_one(DisassemblyView)
    await wait_for(pilot, lambda: disassembly.marked_rows(), "the PC's instruction")
    await take(app, pilot, "debugger-disassembly")

    await pilot.press("9")
    await pilot.press(*"workers", "enter")
    memory = debugger.query_one(MemoryView)
    await wait_for(pilot, lambda: getattr(memory, "block", None), "the memory dump")
    await take(app, pilot, "debugger-memory")

    debugger.action_pane("watch")
    await pilot.press("a", *"workers[1]", "enter")
    watch = debugger.query_one(WatchTree)
    await wait_for(pilot, lambda: watch.expressions, "the watch")
    await pilot.pause(0.5)
    await take(app, pilot, "debugger-watch")

    engine = debugger.link.session.engine if debugger.link.session else None
    assert engine is not None
    await engine.watch_insert("workers[2].iterations", "write")
    await engine.dprintf_insert("tick", "tick of worker %ld\n", ["w->id"])
    await engine.catch_insert("syscall", "clock_nanosleep")
    await pilot.press("6")
    table = debugger.query_one(BreakpointsTable)
    await wait_for(pilot, lambda: table.row_count >= 4, "the breakpoints listed")
    await take(app, pilot, "debugger-breakpoints")

    await pilot.press("l")
    logs = debugger.query_one(LogsPane)
    await wait_for(pilot, lambda: logs.entries, "the container's log")
    await take(app, pilot, "debugger-logs")
    source = debugger.query_one(SourceView)
    source.focus()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", choices=("docker", "process"), default=None)
    args = parser.parse_args()
    runtime = args.runtime or ("docker" if unavailable_reason("docker") is None else "process")
    rootfs = build_rootfs()
    started = STARTERS[runtime]("cntr-demo-screenshots", rootfs, "/app/threads")
    try:
        asyncio.run(shoot(started, rootfs))
    finally:
        started.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
