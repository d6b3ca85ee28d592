"""Snapshot tests (pytest-textual-snapshot) of each screen on fixed data.

No containers, gdb or /proc here: the list comes from a fixed `lister`, the details
panel's /proc facts and the uptime clock are pinned, and the debugger's panes are fed
fixed records. Regenerate after an intended change with
`pytest tests/unit/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from cntr_tui.app.app import DARK_THEME, CntrApp
from cntr_tui.app.listing import ListingResult
from cntr_tui.app.screens import containers as containers_screen
from cntr_tui.app.screens import debugger as debugger_screen
from cntr_tui.app.screens.containers import ContainersScreen
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.app.screens.help import HelpScreen
from cntr_tui.attach.container import Container, KubernetesInfo
from cntr_tui.attach.facts import ContainerFacts, ProcessNode
from cntr_tui.debug.service import fix_for
from cntr_tui.widgets import container_table
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.container_details import ContainerDetails
from cntr_tui.widgets.gdb_console import GdbConsole
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.mount_view import MountTable
from cntr_tui.widgets.source_view import SourceFile
from cntr_tui.widgets.threads import ThreadsTree
from tests.support.fake_debug import (
    BREAKPOINTS,
    LOCALS,
    MOUNTS,
    SOURCE_PATH,
    THREADS,
    THREADS_C,
    TICK,
    WORKER_STACK,
)

SIZE = (160, 40)
SETTLE_DEADLINE = 10.0
NOW = 1_800_000_000.0  # the uptime column's clock in these tests
NAMESPACES = frozenset({"mnt", "pid", "uts", "ipc", "net", "cgroup"})

CONTAINERS = (
    Container(
        runtime="docker",
        id="3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f",
        name="web",
        pid=31001,
        image="nginx:1.27",
        started_at=NOW - (2 * 86400 + 3 * 3600),
        namespaces=NAMESPACES,
        command="nginx -g daemon off;",
    ),
    Container(
        runtime="podman",
        id="9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a",
        name="cache",
        pid=31002,
        image="redis:7",
        started_at=NOW - (4 * 3600 + 17 * 60),
        namespaces=NAMESPACES,
        command="redis-server",
    ),
    Container(
        runtime="containerd",
        id="c0ffee1234567890abcdef1234567890abcdef1234567890abcdef1234567890",
        name="cart",
        pid=31003,
        image="shop/cart:2.1",
        started_at=NOW - (12 * 60 + 5),
        namespaces=NAMESPACES,
        command="/app/cart --port 8080",
        kubernetes=KubernetesInfo(namespace="shop", pod="cart-7d9f8", container="cart"),
        runtime_namespace="k8s.io",
    ),
    Container(
        runtime="lxc",
        id="builder",
        name="builder",
        pid=31004,
        image=None,
        started_at=NOW - 42,
        namespaces=NAMESPACES | {"user"},
        command="/sbin/init",
    ),
    Container(
        runtime="process",
        id="31005",
        name="threads",
        pid=31005,
        image=None,
        started_at=None,
        namespaces=frozenset({"mnt", "pid"}),
        command="/app/threads",
    ),
)

FACTS = ContainerFacts(
    user="uid 0 gid 0",
    capabilities="chown dac_override fowner kill net_bind_service setgid setuid",
    seccomp="filter",
    processes=[
        ProcessNode(
            31001,
            1,
            "nginx",
            children=[ProcessNode(31010, 7, "nginx"), ProcessNode(31011, 8, "nginx")],
        )
    ],
)


@pytest.fixture(autouse=True)
def fixed_world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same picture on every machine: fixed clock and /proc facts, no user keymap."""
    monkeypatch.setattr(container_table, "time", SimpleNamespace(time=lambda: NOW))
    monkeypatch.setattr(containers_screen, "read_facts", lambda container: FACTS)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


def fixed_list() -> ListingResult:
    return ListingResult(containers=CONTAINERS)


def empty_list() -> ListingResult:
    return ListingResult()


async def settle(pilot: Pilot[None], condition: Callable[[], object], what: str) -> None:
    end = time.monotonic() + SETTLE_DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def containers_of(pilot: Pilot[None]) -> ContainersScreen:
    return next(s for s in pilot.app.screen_stack if isinstance(s, ContainersScreen))


async def listed(pilot: Pilot[None]) -> None:
    """The fixed list is shown, with the first row's /proc facts in the details panel."""
    screen = containers_of(pilot)
    await settle(pilot, lambda: screen.listed_once and not screen.status.busy, "the listing")
    tree = screen.query_one(ContainerDetails).query_one("#details-processes")
    await settle(pilot, lambda: tree.display and tree.root.children, "the process tree")


async def listed_empty(pilot: Pilot[None]) -> None:
    screen = containers_of(pilot)
    empty = screen.query_one("#empty")
    await settle(pilot, lambda: empty.display and not screen.status.busy, "the empty message")


def test_containers_screen(snap_compare) -> None:
    app = CntrApp(theme=DARK_THEME, lister=fixed_list)
    assert snap_compare(app, terminal_size=SIZE, run_before=listed)


def test_containers_screen_filtered(snap_compare) -> None:
    async def filtered(pilot: Pilot[None]) -> None:
        await listed(pilot)
        await pilot.press("slash", *"shop", "enter")
        table = containers_of(pilot).table
        await settle(pilot, lambda: len(table.visible_keys) == 1, "one row left")

    app = CntrApp(theme=DARK_THEME, lister=fixed_list)
    assert snap_compare(app, terminal_size=SIZE, run_before=filtered)


def test_containers_screen_empty(snap_compare) -> None:
    app = CntrApp(theme=DARK_THEME, lister=empty_list)
    assert snap_compare(app, terminal_size=SIZE, run_before=listed_empty)


def test_help_screen(snap_compare) -> None:
    async def help_open(pilot: Pilot[None]) -> None:
        await listed_empty(pilot)
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "the help screen")

    app = CntrApp(theme=DARK_THEME, lister=empty_list)
    assert snap_compare(app, terminal_size=SIZE, run_before=help_open)


def test_error_dialog(snap_compare) -> None:
    message = "gdb could not attach to PID 1: ptrace: Operation not permitted."

    async def error_shown(pilot: Pilot[None]) -> None:
        await listed(pilot)
        pilot.app.show_error("Cannot debug web", message, fix_for(message))
        await settle(pilot, lambda: isinstance(pilot.app.screen, ErrorDialog), "the dialog")

    app = CntrApp(theme=DARK_THEME, lister=fixed_list)
    assert snap_compare(app, terminal_size=SIZE, run_before=error_shown)


# --- the debugger on fixed records -------------------------------------------------


class FixedDebuggerScreen(DebuggerScreen):
    """The real screen and panes, with no attach session or gdb behind them."""

    CSS_PATH = Path(debugger_screen.__file__).with_name("debugger.tcss")

    def connect(self) -> None:  # type: ignore[override]
        pass

    def check_alive(self) -> None:
        pass


def fed_debugger(tab: str) -> Callable[[Pilot[None]], object]:
    async def feed(pilot: Pilot[None]) -> None:
        await listed(pilot)
        screen = FixedDebuggerScreen(CONTAINERS[0])
        await pilot.app.push_screen(screen)
        await settle(pilot, lambda: pilot.app.screen is screen, "the debugger screen")
        screen.query_one("#threads").loading = False
        screen.status.state = "■ thread 3 stopped: breakpoint hit #1 in tick at threads.c:38"
        screen.status.context = "docker web · PID 1 · attach session (fixed data)"
        screen.source.show_file(SourceFile(SOURCE_PATH, THREADS_C.read_text()), TICK.line)
        screen.source.set_breakpoints({38})
        threads = screen.query_one(ThreadsTree)
        threads.show_threads(THREADS, 3)
        threads.show_backtrace(3, WORKER_STACK)
        locals_tree = screen.query_one(LocalsTree)
        locals_tree.show_variables(LOCALS)
        struct = next(n for n in locals_tree.root.children if n.data and n.data.name == "copy")
        struct.expand()
        screen.query_one(MountTable).show_mounts(MOUNTS)
        screen.query_one(BreakpointsTable).show_breakpoints(BREAKPOINTS)
        console = screen.query_one(GdbConsole)
        console.write_output("(gdb) info threads", style="bold")
        console.write_output('* 3    Thread 0x7f3a1b7fe6c0 (LWP 8) "worker-1" tick (w=0x404060)')
        screen.query_one(TabbedContent).active = tab
        await settle(pilot, lambda: threads.thread_count() == len(THREADS), "the threads")

    return feed


def test_debugger_screen(snap_compare) -> None:
    app = CntrApp(theme=DARK_THEME, lister=fixed_list)
    assert snap_compare(app, terminal_size=SIZE, run_before=fed_debugger("tab-console"))


def test_debugger_screen_mounts(snap_compare) -> None:
    app = CntrApp(theme=DARK_THEME, lister=fixed_list)
    assert snap_compare(app, terminal_size=SIZE, run_before=fed_debugger("tab-mounts"))


def test_debugger_screen_breakpoints(snap_compare) -> None:
    app = CntrApp(theme=DARK_THEME, lister=fixed_list)
    assert snap_compare(app, terminal_size=SIZE, run_before=fed_debugger("tab-breakpoints"))
