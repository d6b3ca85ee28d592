"""The import contracts in pyproject.toml ([tool.importlinter]) hold for the code, and they
do fail when a forbidden import is added (checked on a copy of the package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the cntr_tui package and the pyproject.toml found in `root`."""
    # The venv holds cntr_tui installed editable (the repo's copy): the package under `root`
    # goes first on the path so that it is the one grimp finds and analyses.
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def append_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_a_forbidden_import_breaks_its_contract(tmp_path: Path) -> None:
    shutil.copytree(
        REPO / "cntr_tui", tmp_path / "cntr_tui", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    append_line(tmp_path / "cntr_tui/linux/procfs.py", "import cntr_tui.app.app")
    append_line(tmp_path / "cntr_tui/fs/mounts.py", "from cntr_tui.gdb import session")
    append_line(tmp_path / "cntr_tui/widgets/threads.py", "from cntr_tui.gdb.session import core")
    append_line(tmp_path / "cntr_tui/app/screens/files.py", "import cntr_tui.app.screens.debugger")
    append_line(tmp_path / "cntr_tui/attach/container.py", "import cntr_tui.kube.pod")
    append_line(tmp_path / "cntr_tui/kube/pod.py", "from cntr_tui.gdb import session")

    result = lint_imports(tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for contract in (
        "the headless core never imports the UI",
        "linux imports nothing else of ours",
        "fs never imports gdb or the debug service",
        "widgets draw records: no engine, file system, attach or /proc module",
        "the UI reaches the engine only through the seam",
        "screens do not import each other (they talk through messages)",
        "kube is a front end: only commands imports it",
        "kube talks to kubectl: attach and settings at most, no UI, debugger or file server",
    ):
        assert f"{contract} BROKEN" in output, output
    # the copy was analysed, not the installed package: the chains start at the added lines
    assert "cntr_tui.linux.procfs -> cntr_tui.app.app" in output, output
    assert "cntr_tui.fs.mounts -> cntr_tui.gdb.session" in output, output
    assert "cntr_tui.widgets.threads -> cntr_tui.gdb.session.core" in output, output
    assert "cntr_tui.app.screens.files -> cntr_tui.app.screens.debugger" in output, output
    assert "cntr_tui.attach.container -> cntr_tui.kube.pod" in output, output
    assert "cntr_tui.kube.pod -> cntr_tui.gdb.session" in output, output
