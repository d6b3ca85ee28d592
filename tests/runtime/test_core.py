"""`cntr-tui core` on real containers, and the kept core opened after the container
and its image are gone: `gdb --core` prints the backtrace with file:line and a local's
value, `snapshot --core` a Python program's frames in call order; the program runs on
untraced after the core is taken; bad input (an output folder that fills up, a path
that exists, a file that is no kept core) is one line with nothing left behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.debug.core_bundle import CoreBundle
from cntr_tui.demo.python_root import SERVICE, build_python_root
from cntr_tui.gdb.elf import read_elf
from tests.runtime.test_snapshot import MARK, snapshot
from tests.support.cli import CNTR_TUI
from tests.support.disks import small_tmpfs as small_tmpfs_of
from tests.support.proc import processes_with_environment, running, tracer_of, wait_until
from tests.support.runtimes import TEST_PREFIX, StartContainer, require_runtime
from tests.unit.test_snapshot_schema import validate

THREADS_C = Path(__file__).parents[2] / "cntr_tui" / "demo" / "programs" / "threads.c"
# the Python service's malloc keeps one arena: a core of 40 MiB rather than 300 (each
# thread's arena is a 64 MiB reservation that gdb 13's gcore writes out as zeros)
SMALL_ARENAS = {"PATH": "/bin", "MALLOC_ARENA_MAX": "1"}


def line_of(needle: str) -> int:
    lines = THREADS_C.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def cntr_tui(*args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    mark = uuid.uuid4().hex
    environment = {**os.environ, MARK: mark}
    done = subprocess.run(
        [*CNTR_TUI, *args], capture_output=True, text=True, timeout=300, env=environment
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done, mark


@pytest.fixture
def out_dir() -> Iterator[Path]:
    path = Path("/var/tmp") / f"{TEST_PREFIX}cores-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def released(mark: str, pid: int) -> bool:
    return (
        processes_with_environment(f"{MARK}={mark}") == []
        and wait_until(lambda: tracer_of(pid) == 0)
        and running(pid)
    )


def test_a_core_opens_with_lines_and_locals_once_container_and_image_are_gone(
    start_container: StartContainer, out_dir: Path
) -> None:
    require_runtime("docker")
    container = start_container("docker")
    image = subprocess.run(
        ["docker", "inspect", "-f", "{{.Config.Image}}", container.name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the container runs from a tag of its own, removed with it below
    tag = f"{TEST_PREFIX}core-{uuid.uuid4().hex[:8]}:1"
    subprocess.run(["docker", "tag", image, tag], check=True)
    try:
        subprocess.run(["docker", "rm", "-f", container.name], check=True, capture_output=True)
        name = f"{TEST_PREFIX}core-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["docker", "run", "-d", "--name", name, "--network", "none", tag, "/app/threads"],
            check=True,
            capture_output=True,
        )
        pid = int(
            subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Pid}}", name],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        build_id = read_elf(f"/proc/{pid}/root/app/threads").build_id
        core = out_dir / "threads.core"
        done, mark = cntr_tui("core", name, "-o", str(core))
        assert done.returncode == 0, done.stderr
        assert re.match(
            rf"docker {name}, process 1 \(host PID {pid}\): core written to {core} "
            r"\([\d.]+ MiB, \d+ objects kept beside it\), stopped for [\d.]+ ms, running again "
            r"untraced$",
            done.stdout.strip(),
        ), done.stdout
        assert released(mark, pid)
        manifest = json.loads(CoreBundle(core).manifest_path.read_text())
        assert manifest["container"]["name"] == name and manifest["container"]["image"] == tag
        assert manifest["process"]["executable"] == "/app/threads"
        kept = {obj["path"]: obj for obj in manifest["objects"]}
        assert kept["/app/threads"]["build_id"] == build_id
        assert any(path.endswith("/libc.so.6") for path in kept)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "rmi", tag], capture_output=True)
    assert subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode

    opened, _ = cntr_tui(
        "gdb",
        "--core",
        str(core),
        "--batch",
        "-ex",
        "thread apply all bt",
        "-ex",
        "thread 2",
        "-ex",
        "frame function worker_main",
        "-ex",
        "print w->name",
        "-ex",
        "info sharedlibrary",
    )
    assert opened.returncode == 0, opened.stderr
    assert "in worker_main (arg=" in opened.stdout
    assert f"at threads.c:{line_of('nanosleep(&pause, NULL);')}" in opened.stdout
    assert re.search(r'\$1 = "worker-\d', opened.stdout), opened.stdout
    # the libraries are the kept copies, not the removed container's
    assert re.search(rf"{core}\.objects/sysroot/lib/x86_64-linux-gnu/libc\.so\.6", opened.stdout)


def test_a_python_core_shows_its_python_frames(
    start_container: StartContainer, out_dir: Path
) -> None:
    container = start_container(
        "process", program=SERVICE, root=build_python_root(), env=SMALL_ARENAS
    )
    core = out_dir / "service.core"
    done, mark = cntr_tui("core", str(container.pid), "-o", str(core))
    assert done.returncode == 0, done.stderr
    assert released(mark, container.pid)
    container.remove()
    result, _ = snapshot("--core", str(core), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert validate(output) == []
    assert output["core"] == str(core) and output["language"]["missing"] is None
    assert output["language"]["reader"].startswith("pystack ")
    chains = sorted(
        [f["function"] for f in t["frames"] if f["language"] == "python"] for t in output["threads"]
    )
    assert ["read_request", "serve_forever", "run", "_bootstrap_inner", "_bootstrap"] in chains
    assert ["wait_for_work", "sleeper", "run", "_bootstrap_inner", "_bootstrap"] in chains
    assert ["wait", "wait", "wait_for_shutdown", "main", "<module>"] in chains
    for thread in output["threads"]:  # native frames around them, as in a live snapshot
        assert thread["frames"][-1]["language"] == "native"
        blocked = {"read_request", "wait_for_work", "wait"} & {
            f["function"] for f in thread["frames"]
        }
        if blocked:  # in a C call (recv, nanosleep, a lock): native innermost
            assert thread["frames"][0]["language"] == "native", thread["frames"][0]
    text, _ = snapshot("--core", str(core))
    assert "; the core was taken in a " in text.stdout.splitlines()[0]


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    with small_tmpfs_of("1m") as path:
        yield path


def test_a_full_disk_is_one_line_and_leaves_no_partial_core(
    start_container: StartContainer, small_tmpfs: Path
) -> None:
    container = start_container("process")
    done, mark = cntr_tui("core", str(container.pid), "-o", str(small_tmpfs / "core"))
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.startswith("cntr-tui: ") and done.stderr.count("\n") == 1, done.stderr
    assert list(small_tmpfs.iterdir()) == []
    assert released(mark, container.pid)


def test_bad_input_is_one_line(start_container: StartContainer, out_dir: Path) -> None:
    container = start_container("process")
    taken = out_dir / "exists"
    taken.write_text("")
    done, mark = cntr_tui("core", str(container.pid), "-o", str(taken))
    assert (
        done.returncode != 0
        and done.stderr == f"cntr-tui: {taken} exists: choose another -o FILE\n"
    )
    assert released(mark, container.pid)
    for command in (["gdb", "--core", str(taken), "--batch"], ["snapshot", "--core", str(taken)]):
        refused, _ = cntr_tui(*command)
        assert refused.returncode != 0 and refused.stdout == ""
        assert refused.stderr == (
            f"cntr-tui: {taken}: no manifest beside it (exists.json): not a core taken by "
            "cntr-tui core\n"
        )
    missing, _ = cntr_tui("core", "no-such-container-cntr-test")
    assert missing.returncode != 0 and missing.stderr.count("\n") == 1
    assert sorted(p.name for p in out_dir.iterdir()) == ["exists"]
