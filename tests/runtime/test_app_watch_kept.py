"""The watch pane against real docker containers and real gdb (issue 14): a watch added
in one debugger session is there, and evaluated, when the debugger opens on another
container of the same image; a container of another image has none of them. The values
are checked against the stopped program's memory (/proc), not against gdb's answers.
The watches are kept under a test's own state folder (CNTR_TUI_STATE_DIR's setting)."""

from __future__ import annotations

import json
import subprocess
import uuid
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.watch_store import FOLDER
from cntr_tui.demo import containers
from cntr_tui.settings import Settings
from cntr_tui.widgets.watch import WatchTree
from tests.runtime.test_app import SIZE, attached_debugger, wait_for
from tests.support.fake_debug import Recorder
from tests.support.frontend import Program
from tests.support.runtimes import TEST_PREFIX, require_runtime

EXPRESSION = "workers[1].iterations"


async def watch_value(pilot: Pilot[None], screen: DebuggerScreen) -> str:
    """The watch pane shown (0), once it has EXPRESSION's value."""
    await pilot.press("0")
    watch = screen.query_one(WatchTree)
    await wait_for(pilot, lambda: watch.values.get(EXPRESSION), "the watch's value", 20)
    return str(watch.values[EXPRESSION])


async def detach(pilot: Pilot[None], recorder: Recorder) -> None:
    detached = recorder.count(DebuggerScreen.Detached)
    await pilot.press("escape")
    await wait_for(
        pilot, lambda: recorder.count(DebuggerScreen.Detached) > detached, "the detach", 30
    )


async def test_a_watch_is_kept_for_the_image_and_not_for_another(
    start_container, demo_rootfs: Path, tmp_path: Path
) -> None:
    require_runtime("docker")
    first = start_container("docker")
    settings = replace(Settings.from_environment(), state_dir=str(tmp_path))
    recorder = Recorder()
    app = CntrApp(settings=settings)
    # another image: the demo's under another repository name
    other_image = f"{TEST_PREFIX}watch-{uuid.uuid4().hex[:8]}:1"
    other_name = f"{TEST_PREFIX}docker-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["docker", "tag", containers.ensure_image("docker", demo_rootfs), other_image], check=True
    )
    try:
        async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
            screen = await attached_debugger(pilot, app, first, recorder)
            await pilot.press("0", "a", *EXPRESSION, "enter")
            value = await watch_value(pilot, screen)
            assert int(value) == Program.of(first.pid).counter_values()[1]
            await detach(pilot, recorder)
            (kept,) = (tmp_path / FOLDER).iterdir()
            assert json.loads(kept.read_text())["expressions"] == [EXPRESSION]

            # a second container of the same image: the watch, its own program's value
            second = start_container("docker")
            screen = await attached_debugger(pilot, app, second, recorder)
            assert screen.query_one(WatchTree).expressions == [EXPRESSION]
            value = await watch_value(pilot, screen)
            assert int(value) == Program.of(second.pid).counter_values()[1]
            await detach(pilot, recorder)

            # another image: no watch
            run = ["docker", "run", "-d", "--name", other_name, "--network", "none"]
            subprocess.run([*run, other_image, "/app/threads"], check=True, capture_output=True)
            pid = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Pid}}", other_name],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            other = containers.StartedContainer("docker", other_name, int(pid), lambda: None)
            screen = await attached_debugger(pilot, app, other, recorder)
            await pilot.press("0")
            assert screen.query_one(WatchTree).expressions == []
            await detach(pilot, recorder)
        assert [kept.name] == [path.name for path in (tmp_path / FOLDER).iterdir()]
    finally:
        subprocess.run(["docker", "rm", "-f", other_name], capture_output=True)
        subprocess.run(["docker", "rmi", other_image], capture_output=True)
