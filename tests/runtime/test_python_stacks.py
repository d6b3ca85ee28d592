"""Python frames beside the native ones in `cntr-tui snapshot`, on real containers
(docker, plain namespaces) running the demo Python service (demo/programs/service.py) in
a slim root whose interpreter the host does not have at that path: every thread's
Python functions with file:line in call order, among gdb's native frames, the locals as
reprs, the program running on untraced, and the reader process gone afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.demo import containers
from cntr_tui.demo.python_root import PYTHON_IN_CONTAINER, SERVICE, build_python_root
from cntr_tui.demo.rootfs import install_busybox, write_base_files
from tests.runtime.test_snapshot import MARK, snapshot
from tests.support.proc import processes_with_environment, running, tracer_of, wait_until
from tests.support.runtimes import TEST_PREFIX, StartContainer, require_runtime
from tests.unit.test_snapshot_schema import validate

SOURCE = Path(__file__).resolve().parents[2] / "cntr_tui/demo/programs/service.py"
THREADING = "/opt/svc/lib/python3.11/threading.py"
THREAD_START = [
    "Thread.run",
    "Thread._bootstrap_inner",
    "Thread._bootstrap",
]  # threading.py, innermost first


def line_of(text: str) -> int:
    lines = SOURCE.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.fixture(scope="module")
def python_root() -> Path:
    return build_python_root()


def started(start_container: StartContainer, runtime: str, root: Path):
    container = start_container(runtime, program=SERVICE, root=root)
    # the service's five threads exist once it printed `ready` (start_process waits for
    # it; docker runs it detached)
    assert wait_until(lambda: len(os.listdir(f"/proc/{container.pid}/task")) == 5)
    return container, container.name if runtime == "docker" else str(container.pid)


def chain(thread: dict) -> list[tuple[str, str, str | None, int | None]]:
    return [(f["language"], f["function"], f["file"], f["line"]) for f in thread["frames"]]


# what crunch can be running when stopped, innermost first (demo/programs/service.py)
CRUNCH_CALLS = (
    ["square", "compute_total", "handle_batch"],
    ["compute_total", "handle_batch"],
    ["handle_batch"],
    ["Event.is_set"],
    [],
)


def python_functions(thread: dict) -> list[str]:
    return [f["function"] for f in thread["frames"] if f["language"] == "python"]


def index_of(thread: dict, function: str) -> int:
    return next(i for i, frame in enumerate(thread["frames"]) if frame["function"] == function)


def assert_released(mark: str, pid: int) -> None:
    assert processes_with_environment(f"{MARK}={mark}") == []  # gdb, the reader: all gone
    assert wait_until(lambda: tracer_of(pid) == 0) and running(pid)


@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_each_thread_shows_its_python_frames_in_call_order_among_native_ones(
    runtime: str, start_container: StartContainer, python_root: Path
) -> None:
    container, word = started(start_container, runtime, python_root)
    result, mark = snapshot(word, "--json", "--locals")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert validate(output) == []
    language = output["language"]
    assert language["name"] == "python" and language["version"] == "3.11"
    assert language["missing"] is None and language["reader"].startswith("py-spy ")
    threads = {tuple(python_functions(t))[-4]: t for t in output["threads"] if t["lwp"] != 1}
    assert sorted(threads) == ["crunch", "serve_forever", "sleeper", "ticker"]
    for thread in threads.values():
        assert python_functions(thread)[-3:] == THREAD_START
        # the thread's start is native, outside the Python frames
        assert index_of(thread, "start_thread") > index_of(thread, "Thread._bootstrap")
        assert thread["frames"][-1]["language"] == "native"

    listener = threads["serve_forever"]
    assert python_functions(listener) == ["read_request", "serve_forever", *THREAD_START]
    read_request = chain(listener)[index_of(listener, "read_request")]
    assert read_request == ("python", "read_request", "/app/service.py", line_of("recv(1)"))
    # blocked in the C call: the native recv is inside (before) the Python frame
    assert listener["frames"][0]["language"] == "native"
    assert "recv" in listener["frames"][0]["function"]

    sleeper = threads["sleeper"]
    assert python_functions(sleeper) == ["wait_for_work", "sleeper", *THREAD_START]
    assert "nanosleep" in sleeper["frames"][0]["function"]
    wait = sleeper["frames"][index_of(sleeper, "wait_for_work")]
    assert (wait["file"], wait["line"]) == ("/app/service.py", line_of("time.sleep(seconds)"))
    assert wait["level"] is None and wait["library"] is None

    crunch = threads["crunch"]
    # a busy loop: stopped inside its batch's calls (nearly always) or, in the instant
    # between two, in crunch's own line or its `while` test (ci-40: caught in `crunch`)
    inner = python_functions(crunch)[:-4]
    assert inner in CRUNCH_CALLS, python_functions(crunch)
    assert python_functions(crunch)[-4:] == ["crunch", *THREAD_START]
    frame = crunch["frames"][index_of(crunch, "crunch")]
    batch = {v["name"]: v["value"] for v in frame["locals"]}["batch"]
    assert batch.isdigit() and 0 <= int(batch) < 97

    (main,) = [t for t in output["threads"] if t["lwp"] == 1]
    assert python_functions(main) == [
        "Condition.wait",
        "Event.wait",
        "wait_for_shutdown",
        "main",
        "<module>",
    ]
    run_main = index_of(main, "Py_RunMain")
    assert run_main > index_of(main, "<module>") and main["frames"][run_main]["level"] > 0
    assert_released(mark, container.pid)


def test_the_text_shows_python_frames_and_counts_the_interpreters_own(
    start_container: StartContainer, python_root: Path
) -> None:
    container, word = started(start_container, "process", python_root)
    result, mark = snapshot(word)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.endswith(
            "<- read_request <- serve_forever <- Thread.run <- "
            "Thread._bootstrap_inner <- Thread._bootstrap <- start_thread <- clone3"
        )
        for line in lines
    ), lines
    assert f"  py  read_request at /app/service.py:{line_of('recv(1)')}" in lines
    assert f"  py  Thread.run at {THREADING}:" in result.stdout
    assert any(line.strip().endswith("interpreter frames)") for line in lines)
    assert "_PyEval_EvalFrameDefault" not in result.stdout
    assert_released(mark, container.pid)


@pytest.fixture
def impostor_root() -> Iterator[Path]:
    """A slim root whose 'python3' is busybox: named like an interpreter, with no
    interpreter state for the reader to find."""
    root = Path("/var/tmp") / f"{TEST_PREFIX}impostor-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    try:
        write_base_files(root)
        install_busybox(root)
        fake = root / PYTHON_IN_CONTAINER.lstrip("/")
        fake.parent.mkdir(parents=True)
        shutil.copy2(root / "bin/busybox", fake)
        (root / "app").mkdir()
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_process_python_frames_cannot_be_read_from_keeps_its_native_stack(
    impostor_root: Path,
) -> None:
    require_runtime("process")
    name = f"{TEST_PREFIX}impostor-{uuid.uuid4().hex[:8]}"
    # busybox runs the applet its argv[0] names: `sleep`, from a file called python3
    program = f"/bin/sh -c 'echo ready; exec -a sleep {PYTHON_IN_CONTAINER} 1000'"
    container = containers.start_process(name, impostor_root, program)
    try:
        assert wait_until(
            lambda: os.readlink(f"/proc/{container.pid}/exe").endswith(PYTHON_IN_CONTAINER)
        )
        result, mark = snapshot(str(container.pid), "--json")
        assert result.returncode == 0, result.stderr
        output = json.loads(result.stdout)
        assert validate(output) == []
        missing = output["language"]["missing"]
        assert missing.startswith("Python frames missing: py-spy ") and "\n" not in missing
        (thread,) = output["threads"]
        assert thread["frames"] and all(f["language"] == "native" for f in thread["frames"])
        text, _ = snapshot(str(container.pid))
        assert text.returncode == 0 and missing in text.stdout.splitlines()
        assert_released(mark, container.pid)
    finally:
        container.remove()
    assert not subprocess.run(["pgrep", "-f", name], capture_output=True).stdout
