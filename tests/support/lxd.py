"""LXD in the test bed: an image built here from the demo root, containers from it.

No image server is reachable, so the image is a unified tarball made from the slim demo
root (`metadata.yaml` beside `rootfs/`) and imported under an alias named after the
run; its containers run a demo program as init through `raw.lxc` (lxc.init.cmd), as
the LXC runtime's test containers do. Every name starts with `cntr-test-lxd-`; what a
test makes is deleted on every way out (see `LxdBed`).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cntr_tui.settings import LXD_DIR_DEFAULT
from tests.support import proc

PREFIX = "cntr-test-lxd-"
WORKERS = 3  # threads.c's: its main thread and 3 workers once it is ready
LXD_DIR = Path(os.environ.get("LXD_DIR") or LXD_DIR_DEFAULT)
READY_TIMEOUT = 30.0


def lxc(*args: str, check: bool = True, timeout: float = 120) -> str:
    """Run LXD's client (`lxc`, not LXC's lxc-* tools); its stdout."""
    result = subprocess.run(
        ["lxc", *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if check and result.returncode != 0:
        raise AssertionError(f"lxc {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def unavailable_reason() -> str | None:
    """None when an LXD daemon answers on its socket, else why not."""
    socket = LXD_DIR / "unix.socket"
    if not socket.exists():
        return f"no LXD socket at {socket} (scripts/services.sh start starts lxd)"
    result = subprocess.run(["lxc", "query", "/1.0"], capture_output=True, text=True)
    if result.returncode != 0:
        return f"LXD does not answer: {result.stderr.strip()}"
    return None


def require_lxd() -> None:
    """Skip with the reason when LXD does not run here; under CI, fail instead."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"LXD must run in CI: {reason}")
    pytest.skip(f"lxd: {reason}")


def image_tarball(rootfs: Path, folder: Path, tag: str) -> Path:
    """A unified LXD image of `rootfs`: metadata.yaml and rootfs/ in one tarball."""
    metadata = folder / "metadata.yaml"
    metadata.write_text(
        "architecture: x86_64\n"
        f"creation_date: {int(time.time())}\n"
        "properties:\n"
        "  description: cntr-tui slim demo\n"
        "  os: cntr-demo\n"
        f"  release: {tag}\n"  # a fresh fingerprint per run: two runs never share one
    )
    tarball = folder / "image.tar"
    with tarfile.open(tarball, "w") as archive:
        archive.add(metadata, "metadata.yaml")
        archive.add(rootfs, "rootfs")
    return tarball


@dataclass
class LxdContainer:
    name: str
    project: str
    pid: int

    @property
    def root(self) -> Path:
        """Its root file system on the host (the `dir` pool's folder)."""
        folder = self.name if self.project == "default" else f"{self.project}_{self.name}"
        return LXD_DIR / "storage-pools/default/containers" / folder / "rootfs"


@dataclass
class LxdBed:
    """The run's image, projects and containers; `remove()` deletes all of them."""

    image: str
    containers: list[LxdContainer] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)

    def project(self) -> str:
        """A new project sharing the default project's images and profiles."""
        name = f"{PREFIX}p{uuid.uuid4().hex[:6]}"
        lxc(
            "project", "create", name,
            "-c", "features.images=false", "-c", "features.profiles=false",
        )  # fmt: skip
        self.projects.append(name)
        return name

    def launch(self, program: str = "/app/threads", project: str = "default") -> LxdContainer:
        """A running container whose init is `program`, once that program is ready."""
        name = f"{PREFIX}{uuid.uuid4().hex[:8]}"
        self.containers.append(LxdContainer(name, project, 0))
        lxc(
            "launch", self.image, name, "--quiet", "--project", project,
            "-c", f"raw.lxc=lxc.init.cmd = {program}",
        )  # fmt: skip
        state = json.loads(lxc("query", f"/1.0/instances/{name}/state?project={project}"))
        container = LxdContainer(name, project, int(state["pid"]))
        self.containers[-1] = container
        if program == "/app/threads":
            tasks = Path(f"/proc/{container.pid}/task")
            ready = proc.wait_until(lambda: len(os.listdir(tasks)) > WORKERS, READY_TIMEOUT)
            assert ready, f"{name}: the threads program did not start its workers"
        return container

    def stop(self, container: LxdContainer) -> None:
        lxc("stop", "--force", "--project", container.project, container.name)

    def remove(self) -> None:
        errors = []
        for container in reversed(self.containers):
            result = subprocess.run(
                ["lxc", "delete", "--force", "--project", container.project, container.name],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0 and "not found" not in result.stderr.lower():
                errors.append(result.stderr.strip())
        for project in self.projects:
            subprocess.run(["lxc", "project", "delete", project], capture_output=True)
        subprocess.run(["lxc", "image", "delete", self.image], capture_output=True)
        assert not errors, f"deleting LXD containers: {errors}"


def import_image(rootfs: Path) -> str:
    """The alias of a fresh image of `rootfs` in LXD's image store."""
    alias = f"{PREFIX}image-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}image-") as folder:
        tarball = image_tarball(rootfs, Path(folder), alias)
        lxc("image", "import", str(tarball), "--alias", alias, "--quiet")
    return alias


def leftovers(bed: LxdBed) -> list[str]:
    """What of `bed` is still there: its instances, projects and image in LXD, a
    process whose command line names one of its containers (LXD's `[lxc monitor]`
    does), a host mount naming one."""
    names = {c.name for c in bed.containers}
    instances = json.loads(lxc("query", "/1.0/instances?all-projects=true&recursion=1"))
    found = [f"instance {i['project']}/{i['name']}" for i in instances if i["name"] in names]
    projects = json.loads(lxc("query", "/1.0/projects?recursion=1"))
    found += [f"project {p['name']}" for p in projects if p["name"] in bed.projects]
    images = json.loads(lxc("query", "/1.0/images/aliases?recursion=1"))
    found += [f"image {a['name']}" for a in images if a["name"] == bed.image]
    for pid, argv in proc.command_lines().items():
        if any(name in " ".join(argv) for name in names):
            found.append(f"process {pid}: {' '.join(argv)}")
    with open("/proc/self/mountinfo") as mounts:
        found += [f"mount {line.split()[4]}" for line in mounts if any(n in line for n in names)]
    return found
