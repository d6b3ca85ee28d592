"""The spare file server (attach/spare_server.py): the server's Python started before
the container is known, given the server's arguments when a merged root is started.

A server started from a spare must be found as the server it is (its command line
names the module and `--pid=N`, as the leftover checks look for it) and be torn down
like one; a spare never given its arguments must end (closed by its owner, or its
owner gone) without having touched anything; `cntr-tui attach` must use it cold and
not start one when the container's merged root is up already."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from cntr_tui.attach import spare_server
from cntr_tui.attach.session import AttachSession
from tests.runtime.test_attach_spare import gone
from tests.support.attach import (
    CLI,
    assert_nothing_left,
    cmdline,
    pid_namespace_members,
    server_processes,
    wait_until,
)
from tests.support.proc import processes_with_environment


def test_a_root_started_from_the_spare_is_its_server_and_leaves_nothing(start_container):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    spare_server.start(container.name)
    spare = spare_server._spare
    assert spare is not None
    assert b"--pid=" not in cmdline(spare.pid)  # no container yet
    with AttachSession(container.pid) as session:
        assert spare_server._spare is None  # taken
        assert session.root is not None and session.root.server == spare.pid
        line = cmdline(spare.pid).split(b"\0")
        assert line[1:3] == [b"-m", b"cntr_tui.fs.server_process"]
        assert f"--pid={container.pid}".encode() in line
        assert spare.pid in server_processes(container.pid)
        assert session.run(["true"]) == 0
    assert_nothing_left(container.pid, members)
    assert gone(spare.pid)


def test_a_spare_never_taken_ends_on_close_and_when_its_owner_dies():
    spare_server.start("no-such-container-cntr-spare-server")
    spare = spare_server._spare
    assert spare is not None
    spare_server.close()
    assert spare.process.returncode is not None and gone(spare.pid)
    spare_server.close()  # idempotent
    assert spare_server.take() is None
    code = (
        "import os; from cntr_tui.attach import spare_server; "
        "spare_server.start('no-such-container-cntr-spare-server'); "
        "print(spare_server._spare.pid, flush=True); os._exit(0)"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as owner:
        assert owner.stdout is not None
        orphan = int(owner.stdout.readline())
    assert owner.returncode == 0
    assert wait_until(lambda: gone(orphan))


def test_no_spare_while_the_root_is_up(start_container):
    container = start_container("docker")
    with AttachSession(container.pid):
        spare_server.start(str(container.pid))
        assert spare_server._spare is None
    spare_server.start(str(container.pid))  # released: cold again
    assert spare_server._spare is not None
    spare_server.close()


def test_cli_attach_cold_runs_through_the_spare_and_leaves_nothing(start_container):
    container = start_container("docker")
    members = pid_namespace_members(container.pid)
    result = subprocess.run(
        [*CLI, "attach", container.name, "--", "sh", "-c", "cat /proc/self/status >/dev/null"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert_nothing_left(container.pid, members)
    marker = f"CNTR_TUI_SPARE_SERVER_TEST={uuid.uuid4().hex}"
    name, _, value = marker.partition("=")
    bad = subprocess.run(
        [*CLI, "attach", "no-such-container-cntr-spare-server", "--", "true"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        env={**os.environ, name: value},
    )
    assert bad.returncode != 0 and bad.stderr.count(b"\n") == 1
    # the spare inherits our environment: none carrying the marker may be left
    assert processes_with_environment(marker) == []
