"""The Linux layer's place: it imports nothing else of ours, fs and attach no longer
import each other, the UI reads no /proc itself, and the cheap modules load in a
`python -I -S` (the guard's interpreter) without dataclasses, enum, contextlib,
functools, re or collections."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import cntr_tui
from cntr_tui.python_command import PACKAGE_PARENT

PACKAGE = Path(cntr_tui.__file__).parent
CHEAP = ("procfs", "proc_stat", "proc_status", "namespaces", "pidfd", "syscalls")
HEAVY = ("dataclasses", "enum", "contextlib", "functools", "re", "collections", "typing")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code (lazy imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def ours_imported_by(folder: str) -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE)): {
            name for name in imported_modules(path) if name.startswith("cntr_tui.")
        }
        for path in (PACKAGE / folder).rglob("*.py")
    }


def test_linux_imports_nothing_else_of_ours() -> None:
    for module, names in ours_imported_by("linux").items():
        assert all(name.startswith("cntr_tui.linux") for name in names), (module, names)


def test_fs_does_not_import_attach() -> None:
    for module, names in ours_imported_by("fs").items():
        assert not any(name.startswith("cntr_tui.attach") for name in names), (module, names)


def test_widgets_read_no_proc_and_import_no_reader() -> None:
    readers = ("cntr_tui.app", "cntr_tui.fs.mounts", "cntr_tui.linux", "cntr_tui.attach.process")
    for module, names in ours_imported_by("widgets").items():
        assert not [name for name in names if name.startswith(readers)], module
    assert not (PACKAGE / "app" / "facts.py").exists(), "the details' reader is attach.facts"
    for path in (PACKAGE / "widgets").rglob("*.py"):
        code = path.read_text()
        assert 'f"/proc/' not in code and "open(" not in code, path


def test_cheap_modules_load_in_the_guards_interpreter() -> None:
    imports = "; ".join(f"import cntr_tui.linux.{name}" for name in CHEAP)
    code = f"import sys; sys.path.insert(0, {PACKAGE_PARENT!r}); {imports}; print(*sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert all(f"cntr_tui.linux.{name}" in loaded for name in CHEAP)
    assert not [name for name in loaded if name.split(".")[0] in HEAVY]
