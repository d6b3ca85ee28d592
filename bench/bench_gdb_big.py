"""Row 3: gdb loading the full debug info of a large program through the merged root
(`cntr-tui attach X -- gdb -readnow ...` on /var/lib/cntr/app/big) vs. natively
(the same gdb, the same binary, on the host).

The large program is generated and built here: many translation units of templated
C++ with -g, about 100 MB of DWARF (Debian's -dbgsym archive is not reachable here).

    .venv/bin/python bench/bench_gdb_big.py [--runs N] [--units N] [--json OUT]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CNTR_TUI, Row, Stats, report, wall_time
from cntr_tui.demo import containers
from cntr_tui.demo.rootfs import build_rootfs

UNIT = """
#include <map>
#include <string>
#include <vector>
namespace unit{n} {{
template <typename T, int K> struct Cell {{ T value[K]; std::string label; }};
template <typename T, int K> T fold(const std::vector<Cell<T, K>> &cells) {{
    T sum{{}};
    for (const auto &cell : cells) for (int i = 0; i < K; i++) sum += cell.value[i];
    return sum;
}}
{functions}
}}
"""
FUNCTION = """double f{i}(int x) {{
    std::vector<Cell<double, {k}>> cells(x);
    std::map<std::string, Cell<long, {k}>> named;
    named["f{i}"].label = "f{i}";
    return fold(cells) + fold(std::vector<Cell<long, {k}>>{{named["f{i}"]}});
}}
"""


def generate(folder: Path, units: int, per_unit: int = 40) -> Path:
    sources = []
    for n in range(units):
        functions = "".join(FUNCTION.format(i=i, k=1 + i % 7) for i in range(per_unit))
        source = folder / f"unit{n}.cpp"
        source.write_text(UNIT.format(n=n, functions=functions))
        sources.append(source)
    calls = "".join(f"namespace unit{n} {{ double f0(int); }}\n" for n in range(units))
    body = " + ".join(f"unit{n}::f0(argc)" for n in range(units))
    (folder / "main.cpp").write_text(
        f"{calls}int main(int argc, char **) {{ return static_cast<int>({body}); }}\n"
    )
    binary = folder / "big"

    def compile_unit(source: Path) -> str:
        obj = source.with_suffix(".o")
        subprocess.run(["g++", "-g", "-O0", "-c", str(source), "-o", str(obj)], check=True)
        return str(obj)

    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        objects = list(pool.map(compile_unit, [*sources, folder / "main.cpp"]))
    subprocess.run(["g++", "-g", "-o", str(binary), *objects], check=True)
    return binary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cntr-bench-gdb-", dir="/var/tmp"))
    rows: list[Row] = []
    demo = None
    try:
        binary = generate(work, args.units)
        rootfs = work / "rootfs"
        shutil.copytree(build_rootfs(), rootfs, symlinks=True)
        shutil.copy2(binary, rootfs / "app/big")
        demo = containers.start_process("cntr-bench-gdb", rootfs)
        gdb = ["gdb", "-nx", "-batch", "-readnow", "-ex", "info line unit0::f1"]
        native = Stats.of([wall_time([*gdb, str(binary)]) for _ in range(args.runs)])
        inside_cmd = [
            CNTR_TUI,
            "attach",
            str(demo.pid),
            "--",
            *gdb[:-2],
            "-ex",
            "set sysroot /var/lib/cntr",
            *gdb[-2:],
            "/var/lib/cntr/app/big",
        ]
        try:
            ours, note = Stats.of([wall_time(inside_cmd) for _ in range(args.runs)]), ""
        except subprocess.CalledProcessError as error:
            ours, note = None, f"failed: {(error.stderr or b'').decode()[-80:].strip()}"
        size = binary.stat().st_size >> 20
        rows.append(
            Row(
                f"gdb -readnow on a {size} MiB -g binary",
                ours,
                native,
                "native gdb",
                "",
                note or "includes attach",
            )
        )
    finally:
        if demo:
            demo.remove()
        shutil.rmtree(work, ignore_errors=True)
    return report("gdb on a big binary", rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
