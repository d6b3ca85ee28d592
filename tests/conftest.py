"""The test bed: real containers of every runtime, removed even when a test fails.

A runtime the machine cannot run is skipped with its reason; under CI (CI=true) it
fails instead, since the project's machines run all six.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach import agent_client
from cntr_tui.demo import containers
from cntr_tui.demo.rootfs import build_rootfs
from cntr_tui.settings import Settings
from tests.support.runtimes import (
    ALL_RUNTIMES,
    TEST_PREFIX,
    StartContainer,
    require_runtime,
    start_program,
)


@pytest.fixture(scope="session", autouse=True)
def session_agent() -> Iterator[None]:
    """The resident agent the tests' commands start is this session's alone (named after
    it, so a developer's agent, or another run's, is neither used nor stopped), exits
    after 30 s unused (a killed run's), and is stopped when the session ends."""
    os.environ["CNTR_TUI_AGENT"] = f"tests-{os.getpid()}"
    os.environ["CNTR_TUI_AGENT_IDLE"] = "30"
    address = agent_client.agent_address(Settings.from_environment())
    yield
    if address is not None:
        agent_client.stop(address)


@pytest.fixture(scope="session")
def tracefs() -> Iterator[Path]:
    """/sys/kernel/tracing with tracefs on it, for the tests that record signals in an
    ftrace instance of their own. A machine that has not mounted it (no systemd) gets it
    mounted here, and unmounted when the session ends."""
    tracing = Path("/sys/kernel/tracing")
    if (tracing / "instances").is_dir():
        yield tracing
        return
    subprocess.run(["mount", "-t", "tracefs", "tracefs", str(tracing)], check=True)
    try:
        yield tracing
    finally:
        subprocess.run(["umount", str(tracing)], check=False)


@pytest.fixture(scope="session")
def demo_rootfs() -> Path:
    return build_rootfs()


@pytest.fixture
def start_container(demo_rootfs: Path) -> Iterator[StartContainer]:
    """`start_container(runtime, program="/app/threads", root=None, **kw)` ->
    StartedContainer; `root`: another root file system than the demo's."""
    started: list[containers.StartedContainer] = []

    def start(
        runtime: str, program: str = "/app/threads", root: Path | None = None, **kwargs: object
    ):
        require_runtime(runtime)
        name = f"{TEST_PREFIX}{runtime}-{uuid.uuid4().hex[:8]}"
        container = containers.STARTERS[runtime](name, root or demo_rootfs, program, **kwargs)
        started.append(container)
        return container

    yield start
    for container in reversed(started):
        container.remove()


@pytest.fixture(params=ALL_RUNTIMES)
def any_container(request: pytest.FixtureRequest, start_container: StartContainer):
    """One running demo container, once per runtime."""
    return start_container(request.param)


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A fresh folder on the host (seen through a merged root at the same path)."""
    path = Path("/var/tmp") / f"cntr-test-host-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def threads_program(demo_rootfs: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start_program(demo_rootfs, "threads")
    yield process
    process.kill()
    process.wait()
