"""Build the slim Python root file system: the host's CPython, its standard library and
the demo service, with busybox; no pip, no debugger, no symbols.

The interpreter sits at PYTHON_IN_CONTAINER, a path the host does not have, so a tool
that opened the container's files by the host's paths would fail here instead of
reading the host's copy by luck. Cached like the demo root (`rootfs.build_rootfs`):
under a folder named after a hash of the inputs, never run on (containers get a copy).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from cntr_tui.demo.rootfs import (
    BUSYBOX,
    CACHE_DIR,
    cached_root,
    copy_library,
    install_busybox,
    shared_libraries,
    write_base_files,
)
from cntr_tui.errors import UserError

HOST_PYTHON = Path("/usr/bin/python3.11")
PREFIX_IN_CONTAINER = "/opt/svc"
PYTHON_IN_CONTAINER = f"{PREFIX_IN_CONTAINER}/bin/python3"
SERVICE = "/app/service.py"
SERVICE_SOURCE = "service.py"
# what a slim image leaves out of the standard library
LEFT_OUT = (
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "dist-packages",
    "site-packages",
    "__pycache__",
    "config-3.11-x86_64-linux-gnu",
)


def service_source() -> bytes:
    return (resources.files("cntr_tui.demo") / "programs" / SERVICE_SOURCE).read_bytes()


def python_root_key(source: bytes) -> str:
    digest = hashlib.sha256(source)
    for path in (HOST_PYTHON, BUSYBOX):
        stat = path.stat() if path.exists() else None
        digest.update(f"{path}:{stat and stat.st_size}:{stat and stat.st_mtime_ns}".encode())
    digest.update(b"python-layout-1")
    return digest.hexdigest()[:12]


def host_stdlib() -> Path:
    return Path("/usr/lib") / HOST_PYTHON.name


def copy_stdlib(root: Path) -> list[Path]:
    """Copy the standard library under the container's prefix; return the extension
    modules' shared libraries, to be copied too."""
    destination = root / PREFIX_IN_CONTAINER.lstrip("/") / "lib" / HOST_PYTHON.name
    shutil.copytree(
        host_stdlib(), destination, ignore=shutil.ignore_patterns(*LEFT_OUT), symlinks=False
    )
    libraries: set[Path] = set()
    for extension in (destination / "lib-dynload").glob("*.so"):
        libraries.update(shared_libraries(extension))
    return sorted(libraries)


def build_python_root(cache_dir: Path = CACHE_DIR) -> Path:
    """Return the path of the Python root file system, building it when absent."""
    if not HOST_PYTHON.exists():
        raise UserError(f"{HOST_PYTHON} is missing: install python3 (Debian's)")
    source = service_source()

    def fill(root: Path, _scratch: Path) -> None:
        write_base_files(root)
        install_busybox(root)
        interpreter = root / PYTHON_IN_CONTAINER.lstrip("/")
        interpreter.parent.mkdir(parents=True)
        shutil.copy2(HOST_PYTHON, interpreter)
        libraries = set(shared_libraries(HOST_PYTHON)) | set(copy_stdlib(root))
        for library in sorted(libraries):
            copy_library(library, root)
        app = root / "app"
        app.mkdir()
        (app / SERVICE_SOURCE).write_bytes(source)
        (app / SERVICE_SOURCE).chmod(0o755)
        # compiled now, so the interpreter never writes its cache into a container
        prefix = root / PREFIX_IN_CONTAINER.lstrip("/")
        compile_all = [str(HOST_PYTHON), "-m", "compileall", "-q", "-s", str(root), "-p", "/"]
        subprocess.run([*compile_all, str(prefix)], check=True, capture_output=True)

    return cached_root(cache_dir / f"pyroot-{python_root_key(source)}", fill)
