"""How long a full container listing takes with N running containers, next to `docker ps`.

    .venv/bin/python bench/bench_listing.py 200            # 100 docker + 100 plain
    .venv/bin/python bench/bench_listing.py 50 --kind docker --runs 9

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
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cntr_tui.attach.discovery import list_containers
from cntr_tui.demo.containers import ensure_docker_image
from cntr_tui.demo.rootfs import build_rootfs

CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")
START_THREADS = 8
READY_TIMEOUT = 60.0


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
            tag = ensure_docker_image(rootfs)
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


def summary(durations: list[float]) -> str:
    return f"{statistics.median(durations):7.3f} {min(durations):7.3f} {max(durations):7.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("count", type=int, help="containers to start (e.g. 10, 50, 200)")
    parser.add_argument("--kind", choices=("both", "docker", "process"), default="both")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    docker_count = {"both": args.count // 2, "docker": args.count, "process": 0}[args.kind]
    plain_count = args.count - docker_count

    print(f"starting {docker_count} docker + {plain_count} plain containers ...", flush=True)
    began = time.perf_counter()
    with containers(docker_count, plain_count) as started:
        print(f"started in {time.perf_counter() - began:.1f} s", flush=True)
        warm = list_containers()  # pays the imports (docker SDK, grpc) once
        found = {c.name for c in warm.containers}
        missing = [name for name in started.docker_names if name not in found]
        if missing or warm.warnings:
            print(f"warning: missing {missing[:3]} warnings {warm.warnings}", file=sys.stderr)
        total = len(warm.containers)
        rows = [("list_containers()", timed(list_containers, args.runs))]
        rows.append(("cntr-tui ls --json", timed(cli_ls, args.runs)))
        rows.append(("docker ps", timed(docker_ps, args.runs)))

    reference = statistics.median(rows[-1][1])
    print()
    print(f"{args.count} started ({docker_count} docker, {plain_count} plain); {total} listed;")
    print(f"{args.runs} runs each, seconds; ratio = median / median of docker ps")
    print(f"{'what':<20} {'median':>7} {'min':>7} {'max':>7} {'ratio':>6}")
    for label, durations in rows:
        ratio = statistics.median(durations) / reference
        print(f"{label:<20} {summary(durations)} {ratio:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
