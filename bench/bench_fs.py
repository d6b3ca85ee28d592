"""Row 1: file-system workloads inside an attached session (`--fs fuse` and
`--fs mount`) vs. natively on the host vs. libfuse's C `passthrough_ll` example
(compiled here from /usr/share/doc/libfuse3-dev/examples, never committed).

    .venv/bin/python bench/bench_fs.py [--runs N] [--json OUT]
    .venv/bin/python bench/bench_fs.py --before DIR [--only TEXT] [--fs fuse] ...

`--before DIR`: an A/B of a change instead. DIR holds another copy of the package
(`DIR/cntr_tui`, e.g. this commit's tree with fs/ from the one before); each round
runs the session workload once with DIR's code (PYTHONPATH and working directory DIR,
so the file server's `python -m` takes it too), once with ours and once natively on
the host, in rotating order, and the rows compare ours against DIR's and each against
native. `--only` keeps the workloads whose name contains TEXT (repeatable).

Each workload is the same small C program (bench/fsbench.c, compiled at run time)
that times itself, so attach and process start-up are not in these figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CNTR_TUI, Row, Stats, drop_caches, report
from cntr_tui.demo import containers
from cntr_tui.demo.rootfs import build_rootfs

DATA = Path("/var/tmp/cntr-bench")
EXAMPLES = Path("/usr/share/doc/libfuse3-dev/examples")
SMALL_FILES = 10_000
WIDE_ENTRIES = 20_000
BIG_MIB = 1024
WRITE_MIB = 512


@dataclass(frozen=True)
class Workload:
    name: str
    args: tuple[str, ...]  # fsbench arguments; "{root}" is the path prefix
    cold: bool


WORKLOADS = (
    Workload(
        "stat x10k, warm", ("stat", "{root}/var/tmp/cntr-bench/small", str(SMALL_FILES)), False
    ),
    Workload(
        "open+read+close x10k, warm",
        ("read", "{root}/var/tmp/cntr-bench/small", str(SMALL_FILES)),
        False,
    ),
    Workload("find /usr, cold", ("find", "{root}/usr"), True),
    Workload("find /usr, warm", ("find", "{root}/usr"), False),
    Workload("ls -l of 20,000 entries, warm", ("ls", "{root}/var/tmp/cntr-bench/wide"), False),
    Workload("1 GiB sequential read, cold", ("seqread", "{root}/var/tmp/cntr-bench/big.bin"), True),
    Workload(
        "1 GiB sequential read, warm", ("seqread", "{root}/var/tmp/cntr-bench/big.bin"), False
    ),
    Workload(
        "512 MiB write, 4 KiB blocks",
        ("seqwrite", "{root}/var/tmp/cntr-bench/out.bin", str(WRITE_MIB), "4096"),
        True,
    ),
    Workload(
        "512 MiB write, 1 MiB blocks",
        ("seqwrite", "{root}/var/tmp/cntr-bench/out.bin", str(WRITE_MIB), "1048576"),
        True,
    ),
)


LL_GOAL = "no slower than passthrough_ll"
# Issue 4's targets for `--fs fuse`, per workload: (target, max ratio to native, max
# seconds, the reason found by profiling when it is missed).
PER_REQUEST = (
    "every request the kernel does not answer from its caches is a round trip through "
    "the Python server (pyfuse3)"
)
FUSE_TARGETS: dict[str, tuple[str, float | None, float | None, str]] = {
    "stat x10k, warm": ("<= 1.5x native", 1.5, None, PER_REQUEST),
    "find /usr, cold": (
        "<= 20x native",
        20.0,
        None,
        "a cold tree has nothing in the kernel's caches: every directory's READDIR, every "
        "entry's LOOKUP and the first READLINK of each symlink go to the server, on top "
        "of the disk; " + PER_REQUEST,
    ),
    "find /usr, warm": (
        "<= 3x native",
        3.0,
        None,
        "listings and symlink targets come from the kernel's caches; the second walk "
        "still sends one GETATTR per directory (~17k: reading a directory marks its "
        "atime stale in the kernel, and the walk's fstat asks again), each a round trip "
        "of two wake-ups of idle vCPUs; the server's polling during a burst "
        "(fs/spin_wait.py) saves its own",
    ),
    "1 GiB sequential read, cold": (
        ">= 1.2 GB/s (<= 0.89 s)",
        None,
        (BIG_MIB << 20) / 1.2e9,
        "with FUSE passthrough (Linux 6.9+, fs/passthrough.py) the kernel reads the host "
        "file itself: the disk's own cold rate bounds it (see the native figure); with "
        "the writeback cache instead, READ requests (1 MiB with the 4 MiB read-ahead) "
        "are copied through the Python server",
    ),
    "1 GiB sequential read, warm": (
        "<= 1.2x native (issue 18)",
        1.2,
        None,
        "with FUSE passthrough the host's page cache serves it, no request reaches the "
        "server; with the writeback cache instead (a kernel without passthrough, "
        "CNTR_TUI_FS_PASSTHROUGH=off) the merged file's page cache serves it, and the "
        "gap (2.6x) is the kernel's FUSE read path",
    ),
    "open+read+close x10k, warm": (
        LL_GOAL,
        None,
        None,
        "OPEN and RELEASE are requests to the Python server for every file (answered by "
        "its loop itself, fs/direct_replies.py); with FUSE passthrough each OPEN also "
        "registers a backing file (FUSE_DEV_IOC_BACKING_OPEN, ~4 us measured in the "
        "server), the kernel opens the host file beside the FUSE file, and the last "
        "RELEASE closes the id (~4 us): 1.10x the time of the code issue 18 started from; "
        + PER_REQUEST,
    ),
    "ls -l of 20,000 entries, warm": (
        LL_GOAL,
        None,
        None,
        "a LOOKUP/GETATTR per entry whose kernel cache entry ran out; " + PER_REQUEST,
    ),
    "512 MiB write, 4 KiB blocks": (
        "<= 2x native (issue 18)",
        2.0,
        None,
        "with FUSE passthrough each write() is the kernel's write to the host file, no "
        "request; with the writeback cache instead, ~520 WRITEs of 1 MiB, each copied "
        "through the Python server; without FUSE_HANDLE_KILLPRIV_V2 in the INIT reply "
        "(fastloop.add_init_flags) each write() also costs a GETXATTR of "
        "security.capability",
    ),
    "512 MiB write, 1 MiB blocks": (
        LL_GOAL,
        None,
        None,
        "with FUSE passthrough no request (the kernel writes the host file); with the "
        "writeback cache instead the data is copied through the Python server in WRITEs "
        "of 1 MiB (514 for 512 MiB, 1,023 of 512 KiB without the cache)",
    ),
}
MOUNT_TARGET = ("native (<= 1.2x, noise allowance)", 1.2)


def judge_fs(row: Row, workload: Workload, fs: str, ll: Stats | None) -> Row:
    if fs == "mount":
        target, limit = MOUNT_TARGET
        return row.judge(
            target,
            "no request goes through cntr-tui with bind mounts, so the gap is the machine "
            "(other work during the run, page-cache state); compare the min-max",
            max_ratio=limit,
        )
    target, max_ratio, max_value, reason = FUSE_TARGETS.get(
        workload.name, (LL_GOAL, None, None, PER_REQUEST)
    )
    row.judge(target, reason, max_ratio=max_ratio, max_value=max_value)
    if row.ours is not None and ll is not None:
        versus = row.ours.median / ll.median if ll.median else float("inf")
        row.note = f"{versus:.2f}x passthrough_ll" + (f"; {row.note}" if row.note else "")
        if versus > 1.0 and not row.missed:
            row.missed = True
            row.target = f"{row.target}; {LL_GOAL}" if target != LL_GOAL else target
            row.note = f"MISSES GOAL (slower than the C server): {reason}; {row.note}"
    return row


def compile_c(source: Path, output: Path, *flags: str) -> None:
    subprocess.run(["gcc", "-O2", "-o", str(output), str(source), *flags], check=True)


def prepare_data() -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    fsbench = DATA / "fsbench"
    compile_c(Path(__file__).with_name("fsbench.c"), fsbench)
    small = DATA / "small"
    if not (small / f"f{SMALL_FILES - 1}").exists():
        small.mkdir(exist_ok=True)
        for i in range(SMALL_FILES):
            (small / f"f{i}").write_bytes(b"x" * 1024)
    wide = DATA / "wide"
    if not (wide / f"e{WIDE_ENTRIES - 1}").exists():
        wide.mkdir(exist_ok=True)
        for i in range(WIDE_ENTRIES):
            (wide / f"e{i}").touch()
    big = DATA / "big.bin"
    if not big.exists() or big.stat().st_size != BIG_MIB << 20:
        subprocess.run(
            ["dd", "if=/dev/zero", f"of={big}", "bs=1M", f"count={BIG_MIB}", "status=none"],
            check=True,
        )
    return fsbench


@contextlib.contextmanager
def passthrough_ll_mount() -> Iterator[str]:
    """libfuse's passthrough_ll serving / at a temporary mount point."""
    build = Path(tempfile.mkdtemp(prefix="cntr-bench-ptll-"))
    mountpoint = build / "mnt"
    mountpoint.mkdir()
    binary = build / "passthrough_ll"
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "fuse3"], capture_output=True, text=True, check=True
    ).stdout.split()
    compile_c(EXAMPLES / "passthrough_ll.c", binary, *flags)
    subprocess.run([str(binary), "-o", "source=/,cache=auto", str(mountpoint)], check=True)
    try:
        yield str(mountpoint)
    finally:
        subprocess.run(["fusermount3", "-u", "-z", str(mountpoint)], capture_output=True)
        shutil.rmtree(build, ignore_errors=True)


def fsbench_argv(fsbench: Path, workload: Workload, root: str) -> list[str]:
    return [str(fsbench), *(a.replace("{root}", root) for a in workload.args)]


def measure_direct(fsbench: Path, workload: Workload, root: str) -> float:
    argv = fsbench_argv(fsbench, workload, root)
    if workload.cold:
        drop_caches()
    else:
        run_fsbench(argv)
    return float(run_fsbench(argv))


def run_fsbench(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit status {result.returncode}")
    return result.stdout


def measure_in_session(
    fsbench: Path, workload: Workload, container: str, fs: str, code: Path | None = None
) -> float:
    """Run the workload inside `cntr-tui attach`; for a warm figure run it twice there.
    `code`: a folder with another copy of the package to run instead of ours."""
    command = " ".join(fsbench_argv(fsbench, workload, ""))
    script = command if workload.cold else f"{command} >/dev/null; {command}"
    if workload.cold:
        drop_caches()
    env = None if code is None else {**os.environ, "PYTHONPATH": str(code)}
    result = subprocess.run(
        [CNTR_TUI, "attach", "--fs", fs, container, "--", "/bin/sh", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=code,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr else "failed")
    return float(result.stdout.split()[-1])


def sample(measure, runs: int) -> tuple[Stats | None, str]:
    try:
        return Stats.of([measure() for _ in range(runs)]), ""
    except (RuntimeError, ValueError, subprocess.CalledProcessError) as error:
        return None, f"failed: {error}"[:80]


def compare_code(
    fsbench: Path, workloads: list[Workload], modes: list[str], before: Path, runs: int
) -> list[Row]:
    """Rounds of `before`'s code, ours and native in rotating order, per workload and
    fs mode; the load (1-minute average) is printed before and after each."""
    demo = containers.start_docker(f"cntr-test-posix-bench-{os.getpid()}", build_rootfs())
    rows: list[Row] = []
    try:
        for workload in workloads:
            for fs in modes:
                samples: dict[str, list[float]] = {"ours": [], "before": [], "native": []}
                arms = ("before", "ours", "native")
                load = os.getloadavg()[0]
                for round_ in range(runs):
                    for which in arms[round_ % 3 :] + arms[: round_ % 3]:
                        if which == "native":
                            figure = measure_direct(fsbench, workload, "")
                        else:
                            code = before if which == "before" else None
                            figure = measure_in_session(fsbench, workload, demo.name, fs, code)
                        samples[which].append(figure)
                print(
                    f"{workload.name} [--fs {fs}]: {runs} rounds, load {load:.1f} -> "
                    f"{os.getloadavg()[0]:.1f}",
                    file=sys.stderr,
                )
                ours, old, native = (Stats.of(samples[arm]) for arm in ("ours", "before", "native"))
                name = f"{workload.name} [cntr-tui --fs {fs}]"
                rows.append(Row(name, ours, old, f"before ({before})"))
                rows.append(Row(f"{name} vs native", ours, native, "native"))
                rows.append(Row(f"{name}, before, vs native", old, native, "native"))
    finally:
        demo.remove()
        (DATA / "out.bin").unlink(missing_ok=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--before", type=Path, help="A/B against the package copy in DIR")
    parser.add_argument("--only", action="append", default=[], help="workloads naming TEXT")
    parser.add_argument("--fs", action="append", choices=("fuse", "mount"), default=[])
    args = parser.parse_args()

    fsbench = prepare_data()
    workloads = [w for w in WORKLOADS if not args.only or any(t in w.name for t in args.only)]
    if args.before is not None:
        if not (args.before / "cntr_tui").is_dir():
            print(f"bench_fs: no cntr_tui package in {args.before}", file=sys.stderr)
            return 2
        rows = compare_code(fsbench, workloads, args.fs or ["fuse"], args.before, args.runs)
        return report("File system: this code vs the code before it (A/B)", rows, args.json)
    demo = containers.start_docker("cntr-bench-fs", build_rootfs())
    rows: list[Row] = []
    try:
        for workload in workloads:
            runs = args.runs if "GiB" not in workload.name else max(3, args.runs // 2)
            native, _ = sample(lambda w=workload: measure_direct(fsbench, w, ""), runs)
            # a fresh mount per workload: passthrough_ll holds an fd per inode the kernel
            # remembers, and one workload's fds must not make the next one fail
            with passthrough_ll_mount() as ptll:
                ll, ll_note = sample(lambda w=workload: measure_direct(fsbench, w, ptll), runs)
            if "Too many open" in ll_note:
                limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
                ll_note = (
                    f"failed: passthrough_ll keeps one O_PATH fd per inode and ran out "
                    f"(open-file limit {limit} here, not raisable)"
                )
            for fs in args.fs or ["fuse", "mount"]:
                ours, note = sample(
                    lambda w=workload, f=fs: measure_in_session(fsbench, w, demo.name, f), runs
                )
                row = Row(f"{workload.name} [cntr-tui --fs {fs}]", ours, native, "native")
                row.note = note
                rows.append(judge_fs(row, workload, fs, ll))
            rows.append(
                Row(
                    f"{workload.name} [libfuse passthrough_ll]",
                    ll,
                    native,
                    "native",
                    "",
                    ll_note,
                )
            )
    finally:
        demo.remove()
        (DATA / "out.bin").unlink(missing_ok=True)
    return report(
        "File system: inside a session vs native vs libfuse passthrough_ll", rows, args.json
    )


if __name__ == "__main__":
    sys.exit(main())
