"""The watch pane's expressions kept on the host per container image (issue 14): the
key, the store's files, and the app on the fake engine keeping a watch from one
debugger session to the next of the same image, not into another image's."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.watch_store import FOLDER, WatchStore, image_repository, watch_key
from cntr_tui.settings import Settings
from cntr_tui.widgets.container_table import ContainerTable
from cntr_tui.widgets.watch import WatchTree
from tests.support.fake_debug import VALUES, FakeOpener
from tests.unit.test_machine_panes import open_by_key
from tests.unit.test_screens import (
    CACHE,
    WEB,
    World,
    app_on,
    containers_of,
    debugger_on_web,
    until,
)


def test_the_key_is_the_images_repository_or_the_runtime_and_name() -> None:
    assert image_repository("nginx:1.27") == "nginx"
    assert image_repository("registry:5000/team/app:1.2@sha256:ab12") == "registry:5000/team/app"
    assert image_repository("registry:5000/team/app") == "registry:5000/team/app"
    assert image_repository("sha256:0123abcd") == "sha256:0123abcd"
    assert watch_key(WEB) == watch_key(replace(WEB, id="other", name="web-2", image="nginx:1.28"))
    assert watch_key(WEB) == "image:nginx"
    assert watch_key(CACHE) == "image:redis"
    plain = replace(WEB, runtime="process", image=None, name="threads")
    assert watch_key(plain) == "process:threads"


def test_the_store_keeps_expressions_per_key_and_forgets_an_empty_list(tmp_path: Path) -> None:
    store = WatchStore(str(tmp_path / FOLDER))
    assert store.load("image:nginx") == []
    assert store.save("image:nginx", ["w->id", "workers[1]"]) is None
    assert store.save("image:redis", ["count"]) is None
    assert store.load("image:nginx") == ["w->id", "workers[1]"]
    assert store.load("image:redis") == ["count"]
    path = Path(store.path_of("image:nginx"))
    assert json.loads(path.read_text())["key"] == "image:nginx"
    assert oct(os.stat(tmp_path / FOLDER).st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in (tmp_path / FOLDER).iterdir()) == sorted(
        Path(store.path_of(key)).name for key in ("image:nginx", "image:redis")
    )  # no temporary file left
    assert store.save("image:nginx", []) is None
    assert not path.exists()
    assert store.load("image:redis") == ["count"]


def test_a_broken_or_foreign_file_is_no_watches_and_an_unwritable_folder_says_why(
    tmp_path: Path,
) -> None:
    store = WatchStore(str(tmp_path / FOLDER))
    assert store.save("image:nginx", ["x"]) is None
    path = Path(store.path_of("image:nginx"))
    path.write_text("{not json")
    assert store.load("image:nginx") == []
    path.write_text(json.dumps({"key": "image:other", "expressions": ["y"]}))
    assert store.load("image:nginx") == []
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    problem = WatchStore(str(blocked / FOLDER)).save("image:nginx", ["x"])
    assert problem is not None and problem.startswith(f"watches not kept in {blocked / FOLDER}")


async def test_a_watch_added_is_there_in_the_next_session_of_the_same_image_only(
    tmp_path: Path,
) -> None:
    settings = Settings(keymap_file=str(tmp_path / "keymap.toml"), state_dir=str(tmp_path))
    opener = FakeOpener()
    world = World(opener, app_on(opener, settings))
    app, recorder = world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await open_by_key(pilot, screen, "0", "tab-watch")
        watch = screen.query_one(WatchTree)
        await pilot.press("a", *"*(w)", "enter")
        await until(pilot, lambda: watch.values.get("*(w)") == VALUES["*(w)"], "the value")
        await pilot.press("escape")  # detach
        await until(pilot, lambda: recorder.count(DebuggerScreen.Detached), "the detach")
        kept = WatchStore(str(tmp_path / FOLDER))
        assert kept.load("image:nginx") == ["*(w)"]

        # the same image again: the watch is there, evaluated once its tab is shown
        evaluated = len(world.engine.called("evaluate"))
        screen = await debugger_on_web(pilot, app, recorder)
        watch = screen.query_one(WatchTree)
        assert watch.expressions == ["*(w)"]
        await open_by_key(pilot, screen, "0", "tab-watch")
        await until(pilot, lambda: watch.values.get("*(w)") == VALUES["*(w)"], "the kept value")
        assert [call[0] for call in world.engine.called("evaluate")[evaluated:]] == ["*(w)"]
        await pilot.press("g", "x")  # removed: no longer kept
        await until(pilot, lambda: not watch.expressions, "the watch removed")
        assert kept.load("image:nginx") == []
        await pilot.press("a", *"*(w)", "enter")
        await until(pilot, lambda: kept.load("image:nginx") == ["*(w)"], "kept again")
        await pilot.press("escape")
        await until(pilot, lambda: recorder.count(DebuggerScreen.Detached) == 2, "the detach")

        # another image: none of nginx's watches
        table = containers_of(app).query_one(ContainerTable)
        table.select_container(CACHE.key)
        await until(pilot, lambda: table.selected == CACHE, "cache selected")
        attached = recorder.count(DebuggerScreen.Attached)
        await pilot.press("g")
        await until(pilot, lambda: recorder.count(DebuggerScreen.Attached) > attached, "attach")
        assert isinstance(app.screen, DebuggerScreen)
        assert app.screen.query_one(WatchTree).expressions == []


async def test_settings_made_in_code_keep_no_watches(tmp_path: Path) -> None:
    """The other screen tests' apps (no state_dir): nothing is written anywhere."""
    opener = FakeOpener()
    world = World(opener, app_on(opener, Settings(keymap_file=str(tmp_path / "keymap.toml"))))
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        watch = screen.query_one(WatchTree)
        assert watch.keep is None
        await open_by_key(pilot, screen, "0", "tab-watch")
        await pilot.press("a", *"*(w)", "enter")
        await until(pilot, lambda: watch.values.get("*(w)"), "the value")
    assert Settings.from_environment({}).state_dir == "/var/lib/cntr-tui"
    assert list(tmp_path.iterdir()) == []
