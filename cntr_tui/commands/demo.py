"""`cntr-tui demo`: start the slim demo container, open the UI on it, remove it on quit."""

from __future__ import annotations

import contextlib
import signal
import sys
import time

from cntr_tui.attach.container import Container
from cntr_tui.demo import containers
from cntr_tui.demo.rootfs import build_rootfs
from cntr_tui.ending_signals import signals_raising
from cntr_tui.errors import UserError

DEMO_NAME = "cntr-tui-demo"


def choose_runtime(requested: str) -> str:
    if requested != "auto":
        if requested == "docker" and not containers.docker_available():
            raise UserError("dockerd does not answer; try `cntr-tui demo --runtime process`")
        return requested
    return "docker" if containers.docker_available() else "process"


def remove_stale_demo(runtime: str) -> None:
    """A demo left by a killed earlier run would block the name: remove it."""
    if runtime == "docker":
        containers.quiet("docker", "rm", "-f", DEMO_NAME)


def as_container(started: containers.StartedContainer) -> Container:
    return Container(
        runtime=started.runtime,
        id=started.name,
        name=started.name,
        pid=started.pid,
        image=containers.IMAGE if started.runtime == "docker" else None,
        started_at=time.time(),
        command="/app/threads",
    )


ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # kill, and a terminal that closes


def ending_signals_as_exit() -> contextlib.AbstractContextManager[None]:
    """Turn SIGTERM and SIGHUP into SystemExit, so the demo container (and its root's
    copy) is removed on the way out."""
    return signals_raising(ENDING_SIGNALS, lambda signum: SystemExit(128 + signum))


def run_demo(runtime: str = "auto", with_ui: bool = True) -> int:
    chosen = choose_runtime(runtime)
    rootfs = build_rootfs()
    remove_stale_demo(chosen)
    with ending_signals_as_exit():
        started = containers.STARTERS[chosen](DEMO_NAME, rootfs)
        try:
            if with_ui:
                from cntr_tui.app.main import run_app

                return run_app(focus=as_container(started))
            print(f"{started.runtime} {started.name} {started.pid}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        finally:
            started.remove()
            sys.stdout.flush()
