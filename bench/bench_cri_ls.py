"""Listing Kubernetes pods: `cntr-tui ls` with N CRI pods (issue 17: 200) against the
CRI's own listing, ListContainers + ListPodSandbox, in the same run.

    .venv/bin/python bench/bench_cri_ls.py [--pods 200] [--runs 7] [--json OUT]

The pods are made through containerd's CRI as the kubelet makes them (tests/support/cri.py:
a host-network sandbox with the locally built pause image, one container running
/app/threads), on the test bed's containerd when its CRI makes sandboxes, else on one
started here. Each figure is a fresh process, in alternating order:
- `cntr-tui ls -t containerd` and `cntr-tui ls -t containerd --json` (every pod's
  container with its pod name, namespace, UID, restart count and state);
- `cntr-tui ls` (every runtime of the machine);
- the baseline: a Python process that imports the CRI client and asks ListContainers
  and ListPodSandbox, as `crictl ps` + `crictl pods` would (no crictl on this machine).
Every pod is removed on every way out (Ctrl-C too).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CNTR_TUI, Row, Stats, compile_bytecode, report
from cntr_tui.demo.rootfs import build_rootfs
from tests.support import cri

REPO = Path(__file__).resolve().parent.parent
BASELINE = """
import sys
sys.path.insert(0, {repo!r})
from cntr_tui.attach.runtimes import cri
with cri.Client({socket!r}, timeout=60) as client:
    containers = client.list_containers()
    sandboxes = client.list_sandboxes()
    print(len(cri.parse_containers(containers.result())), len(sandboxes.result().items))
"""


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    compile_bytecode()
    with cri.cri_containerd() as socket_path:
        image = cri.ensure_images(socket_path, build_rootfs())
        with cri.Pods(socket_path, image) as pods:
            started = time.perf_counter()
            for index in range(args.pods):
                pods.run("bench", cri.pod_name(f"ls{index}"))
            made = time.perf_counter() - started
            print(f"{args.pods} pods made in {made:.0f} s", file=sys.stderr)
            prefix = cri.cli_prefix(socket_path)
            commands = {
                "ls -t containerd": [*prefix, CNTR_TUI, "ls", "-t", "containerd"],
                "ls -t containerd --json": [*prefix, CNTR_TUI, "ls", "-t", "containerd", "--json"],
                "ls (every runtime)": [*prefix, CNTR_TUI, "ls"],
                "CRI": [sys.executable, "-c", BASELINE.format(repo=str(REPO), socket=socket_path)],
            }
            samples: dict[str, list[float]] = {name: [] for name in commands}
            for run in range(args.runs + 1):  # the first round warms the caches, not kept
                order = list(commands) if run % 2 == 0 else list(reversed(commands))
                for name in order:
                    seconds, output = timed(commands[name])
                    if name == "ls -t containerd --json":
                        listed = [c for c in json.loads(output) if c.get("kubernetes")]
                        ours = [c for c in listed if c["kubernetes"]["namespace"] == "bench"]
                        assert len(ours) == args.pods, f"ls --json listed {len(ours)} pods"
                    if name == "CRI":
                        assert int(output.split()[1]) >= args.pods, output
                    if run:
                        samples[name].append(seconds)
    load = Path("/proc/loadavg").read_text().split()[:3]
    baseline = Stats.of(samples["CRI"])
    rows = [
        Row(
            f"{name}, {args.pods} pods",
            Stats.of(samples[name]),
            baseline,
            "CRI ListContainers + ListPodSandbox",
            note=f"load {' '.join(load)}",
        )
        for name in commands
        if name != "CRI"
    ]
    return report(f"Kubernetes listing: cntr-tui ls vs the CRI, {args.pods} pods", rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
