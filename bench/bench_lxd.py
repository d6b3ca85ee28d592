"""Listing LXD's containers: plain HTTP over the unix socket (cntr-tui's runtimes/lxd.py)
against pylxd, to choose the lighter client.

    .venv/bin/python bench/bench_lxd.py --pylxd-python VENV/bin/python [--containers 20]
        [--runs 9] [--json OUT]

pylxd is not one of cntr-tui's dependencies: give a Python with it installed (the same
interpreter build as the project's, e.g. `python -m venv V && V/bin/pip install pylxd`).
Starts N LXD containers from the test bed's image (tests/support/lxd.py), then, in
alternating order, runs each client in a fresh interpreter that has already imported
runtimes.base (as cntr-tui has when it lists) and measures:
- import: `runtimes.lxd` alone (plain), or pylxd too;
- first listing: client set-up and one listing of every container with its state and
  PID (plain and pylxd-api: the same GET /1.0/instances?recursion=2&all-projects=true,
  decoded by the same parse_instances; pylxd-objects: pylxd's own
  `client.instances.all()` and `instance.state()` per instance, default project only);
- warm listing: the same again in that process;
- memory: the process's resident size after the listing, less before the import.
Prints medians with min and max and the ratio plain / pylxd (below 1: plain is lighter); removes its
containers and image on every way out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, Stats, report
from cntr_tui.demo.rootfs import build_rootfs
from tests.support.lxd import LxdBed, import_image

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import json, os, sys, time
import cntr_tui.attach.runtimes.base
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
SOCKET = sys.argv[1]
before = rss()
start = time.perf_counter()
{imports}
imported = time.perf_counter()
{setup}
def listing():
{listing}
first = listing()
listed = time.perf_counter()
listing()
warm = time.perf_counter()
print(json.dumps({{
    "import": imported - start, "first": listed - imported, "warm": warm - listed,
    "rss": rss() - before, "count": len(first),
}}))
"""

VARIANTS = {
    "plain": (
        "from cntr_tui.attach.runtimes import lxd",
        "",
        "    path = '/1.0/instances?recursion=2&all-projects=true'\n"
        "    return lxd.parse_instances(lxd.get_metadata(SOCKET, path, 5))",
    ),
    "pylxd-api": (
        "import pylxd\nfrom cntr_tui.attach.runtimes import lxd",
        "client = None",
        "    global client\n"
        "    client = client or pylxd.Client(endpoint=SOCKET)\n"
        "    reply = client.api.instances.get(params={'recursion': 2, 'all-projects': 'true'})\n"
        "    return lxd.parse_instances(reply.json()['metadata'])",
    ),
    "pylxd-objects": (
        "import pylxd",
        "client = None",
        "    global client\n"
        "    client = client or pylxd.Client(endpoint=SOCKET)\n"
        "    return [(i.name, i.status, i.state().pid) for i in client.instances.all()]",
    ),
}


def run_child(python: str, variant: str, socket_path: str) -> dict[str, float]:
    imports, setup, listing = VARIANTS[variant]
    code = CHILD.format(imports=imports, setup=setup, listing=listing)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [python, "-c", code, socket_path], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{variant} failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pylxd-python", required=True, help="a Python that imports pylxd")
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    socket_path = str(Path(os.environ.get("LXD_DIR") or "/var/lib/lxd") / "unix.socket")
    pythons = {"plain": sys.executable, "pylxd-api": args.pylxd_python}
    pythons["pylxd-objects"] = args.pylxd_python
    bed = LxdBed(import_image(build_rootfs()))
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    try:
        for _ in range(args.containers):
            bed.launch(program="/bin/sleep 100000")
        order = list(VARIANTS)
        for run in range(args.runs):
            for variant in order[run % 3 :] + order[: run % 3]:  # alternating order
                samples[variant].append(run_child(pythons[variant], variant, socket_path))
    finally:
        bed.remove()
    counts = {name: {s["count"] for s in runs} for name, runs in samples.items()}
    print(f"{args.containers} LXD containers; instances listed per client: {counts}")
    rows = []
    figures = (("import", "s"), ("first", "s"), ("warm", "s"), ("rss", "MiB"))
    labels = {"import": "import", "first": "first listing", "warm": "warm listing"}
    labels["rss"] = "memory (RSS growth)"
    for figure, unit in figures:
        scale = 1 / 2**20 if unit == "MiB" else 1

        def stats(name: str, figure: str = figure, scale: float = scale, unit: str = unit):
            return Stats.of([s[figure] * scale for s in samples[name]], unit)

        for other in ("pylxd-api", "pylxd-objects"):
            rows.append(
                Row(f"{labels[figure]}: plain vs {other}", stats("plain"), stats(other), other)
            )
    return report(f"LXD listing, {args.containers} containers", rows, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
