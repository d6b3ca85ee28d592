"""`cntr-tui snapshot` of a Go program (demo/programs/goroutines.go, plain namespaces):
its goroutines in the JSON and the text beside the OS threads' native stacks, read by
gdb within the pause; a stripped build keeps its native stacks with the one line saying
why goroutines are missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cntr_tui.demo.go_root import PROGRAM, SOURCE, STRIPPED_PROGRAM, build_go_root
from tests.runtime.test_snapshot import MARK, snapshot
from tests.support.proc import processes_with_environment, running, tracer_of, wait_until
from tests.support.runtimes import StartContainer
from tests.unit.test_snapshot_schema import validate

PLANTED = {  # function -> (state, wait reason)
    "main.waitForOrders": ("waiting", "chan receive"),
    "main.sleeper": ("waiting", "sleep"),
    "main.main": ("waiting", "select"),
}


@pytest.fixture(scope="module")
def go_root() -> Path:
    return build_go_root()


def released(mark: str, pid: int) -> bool:
    return (
        processes_with_environment(f"{MARK}={mark}") == []
        and wait_until(lambda: tracer_of(pid) == 0)
        and running(pid)
    )


def test_goroutines_are_listed_beside_the_threads(
    start_container: StartContainer, go_root: Path
) -> None:
    container = start_container("process", program=PROGRAM, root=go_root)
    result, mark = snapshot(str(container.pid), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert validate(output) == []
    language = output["language"]
    assert language["name"] == "go" and language["version"].startswith("go1.")
    assert language["missing"] is None and language["ms"] > 0
    found = {g["function"]: g for g in language["goroutines"]}
    for function, (state, reason) in PLANTED.items():
        assert (found[function]["state"], found[function]["wait_reason"]) == (state, reason)
        assert found[function]["file"].endswith(f"/app/src/{SOURCE}")
    assert found["main.spinner"]["state"] in ("running", "runnable")
    assert output["threads"] and all(t["frames"] for t in output["threads"])
    text, _ = snapshot(str(container.pid))
    lines = text.stdout.splitlines()
    assert f"{len(language['goroutines'])} goroutines:" in lines
    assert any(
        line.startswith("  1 waiting (chan receive) in main.waitForOrders at goroutines.go:")
        for line in lines
    ), lines
    assert released(mark, container.pid)


def test_a_stripped_build_keeps_its_native_stacks_and_says_why(
    start_container: StartContainer, go_root: Path
) -> None:
    container = start_container("process", program=STRIPPED_PROGRAM, root=go_root)
    result, mark = snapshot(str(container.pid), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert validate(output) == []
    language = output["language"]
    assert language["goroutines"] == [] and "no DWARF" in language["missing"]
    assert "\n" not in language["missing"]
    assert output["threads"] and all(t["frames"] for t in output["threads"])
    text, _ = snapshot(str(container.pid))
    assert language["missing"] in text.stdout.splitlines()
    assert released(mark, container.pid)
