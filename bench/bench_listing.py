"""How long a full container listing takes with N running containers, next to `docker ps`.

    .venv/bin/python bench/bench_listing.py                # 10, 50, 200 (half docker, half plain)
    .venv/bin/python bench/bench_listing.py 200            # 100 docker + 100 plain
    .venv/bin/python bench/bench_listing.py 50 --kind docker --runs 9 [--json OUT]

Starts N sleeping containers (docker: the demo image running /bin/sleep; plain: an
unshare'd PID+mount namespace chrooted into the demo root), then times, over several
runs, `list_containers()` in this process (after one warm-up run that pays the
imports), `cntr-tui ls --json` as a new process (imports included), and `docker ps`
(the docker CLI's own listing of the docker part). Prints a table of median, min and
max with the ratio to `docker ps`, and removes every container it started, even when
interrupted. The issue's target: a full listing of 200 containers under 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, Stats, report
from cntr_tui.attach.discovery import list_containers
from cntr_tui.demo.containers import ensure_image
from cntr_tui.demo.rootfs import build_rootfs

CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")
START_THREADS = 8
READY_TIMEOUT = 60.0
IN_PROCESS_REASON = "the slowest runtime's answer (each runtime is asked in its own thread)"
CLI_REASON = (
    "a new process imports the docker SDK (requests, urllib3) and grpc for containerd "
    "(~0.4-0.7 s) before listing; the listing itself is the list_containers() row"
)


@dataclass
class Started:
    docker_names: list[str]
    plain: list[subprocess.Popen[bytes]]


def start_docker(tag: str, name: str) -> None:
    subprocess.run(
        ["docker", "run", "-d", "--network", "none", "--name", name, tag, "/bin/sleep", "100000"],
        check=True,
        capture_output=True,
    )


def start_plain(rootfs: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "unshare",
            "--fork",
            "--kill-child",
            "--pid",
            "--mount",
            "--propagation=private",
            "--mount-proc=/proc",
            f"--root={rootfs}",
            "--wd=/",
            "/bin/sleep",
            "100000",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def namespaced_child(launcher: int) -> int | None:
    """The launcher's child once it runs in its own PID namespace."""
    with (
        contextlib.suppress(OSError),
        open(f"/proc/{launcher}/task/{launcher}/children") as file,
    ):
        own = os.readlink(f"/proc/{launcher}/ns/pid")
        for child in file.read().split():
            if os.readlink(f"/proc/{child}/ns/pid") != own:
                return int(child)
    return None


def wait_plain_ready(launchers: list[subprocess.Popen[bytes]]) -> list[int]:
    """Poll /proc (no event exists for it) until every launcher has its namespaced child."""
    deadline = time.monotonic() + READY_TIMEOUT
    pids: dict[int, int] = {}
    while len(pids) < len(launchers):
        for launcher in launchers:
            if launcher.pid not in pids and (child := namespaced_child(launcher.pid)):
                pids[launcher.pid] = child
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(pids)} of {len(launchers)} plain containers started")
        time.sleep(0.01)
    return list(pids.values())


@contextlib.contextmanager
def containers(docker_count: int, plain_count: int) -> Iterator[Started]:
    rootfs = build_rootfs()
    prefix = f"cntr-bench-ls-{uuid.uuid4().hex[:6]}"
    started = Started([], [])
    try:
        if docker_count:
            tag = ensure_image("docker", rootfs)
            names = [f"{prefix}-{index}" for index in range(docker_count)]
            started.docker_names = names
            with ThreadPoolExecutor(START_THREADS) as pool:
                list(pool.map(lambda name: start_docker(tag, name), names))
        started.plain = [start_plain(rootfs) for _ in range(plain_count)]
        wait_plain_ready(started.plain)
        yield started
    finally:
        if started.docker_names:
            subprocess.run(["docker", "rm", "-f", *started.docker_names], capture_output=True)
        for launcher in started.plain:
            with contextlib.suppress(ProcessLookupError):
                # sleep as its namespace's init ignores SIGTERM; killing the launcher
                # kills it (--kill-child)
                os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()


def timed(action: Callable[[], object], runs: int) -> list[float]:
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        durations.append(time.perf_counter() - start)
    return durations


def docker_ps() -> None:
    subprocess.run(["docker", "ps"], check=True, capture_output=True)


def cli_ls() -> None:
    subprocess.run([CNTR_TUI, "ls", "--json"], check=True, capture_output=True)


def measure(count: int, kind: str, runs: int) -> list[Row]:
    docker_count = {"both": count // 2, "docker": count, "process": 0}[kind]
    plain_count = count - docker_count
    print(f"starting {docker_count} docker + {plain_count} plain containers ...", flush=True)
    began = time.perf_counter()
    with containers(docker_count, plain_count) as started:
        print(f"started in {time.perf_counter() - began:.1f} s", flush=True)
        warm = list_containers()  # pays the imports (docker SDK, grpc) once
        found = {c.name for c in warm.containers}
        missing = [name for name in started.docker_names if name not in found]
        note = f"{len(warm.containers)} listed"
        if missing or warm.warnings:
            note += f"; missing {missing[:3]} warnings {warm.warnings}"
            print(f"warning: {note}", file=sys.stderr)
        in_process = Stats.of(timed(list_containers, runs))
        cli = Stats.of(timed(cli_ls, runs))
        reference = Stats.of(timed(docker_ps, runs))
    what = f"{count} containers ({docker_count} docker, {plain_count} plain)"
    return [
        Row(f"list_containers(), {what}", in_process, reference, "docker ps", "", note).judge(
            "< 1 s", IN_PROCESS_REASON, max_value=1.0
        ),
        Row(f"cntr-tui ls --json, {what}", cli, reference, "docker ps", "", note).judge(
            "< 1 s", CLI_REASON, max_value=1.0
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "count", type=int, nargs="*", default=[10, 50, 200], help="containers to start"
    )
    parser.add_argument("--kind", choices=("both", "docker", "process"), default="both")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [row for count in args.count for row in measure(count, args.kind, args.runs)]
    return report("Listing: cntr-tui ls vs docker ps", rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
