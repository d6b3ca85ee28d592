"""The file server: serves the host's `/` over FUSE for one container's merged root.

Started by: an attach session's merged-root client (`attach.merged_root.start_server`), as
`python -m cntr_tui.fs.server_process --pid PID --start-time T --mode fuse|mount
--socket PATH`, in a new session; one per (container, fs mode), shared by sessions.
Runs in: the host's namespaces. It forks, before any thread exists, the holder
(`holder_process`: the container's mount namespace, where the merged root is) and in
fuse mode the watchdog (`watchdog_process`), then serves FUSE requests for the host's
`/` (pyfuse3; read by `fastloop.FastLoop` in one thread with FUSE passthrough, two
without (`reads_come_here`), or by `pyfuse3.main` where pyfuse3's internals cannot be
found) and counts sessions in trio: each session
holds a connection to the unix socket `PATH`; when the last one closes, the server
tears everything down (what is left in the holder's mount namespace is SIGKILLed, the
mount goes, the connection is aborted if the loop does not end) and exits.
Never: import the UI (textual, cntr_tui.app/widgets) or gdb; enter a namespace itself
(the holder does, the server stays on the host); open the mount point before the
serving loop runs (a request nobody serves hangs in D state).

stdout gets one JSON line: `{"holder": PID, "connection": N|null, "mnt_ns": INODE}` once
the layout is ready, or `{"error": "..."}`. Each client connecting to the socket gets the
same line; its connection is its hold on the merged root.
Its settings (`CNTR_TUI_FS_PROFILE`, `CNTR_TUI_FS_COUNTS`) are read once, in `main`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import trio

from cntr_tui.fs import mountapi
from cntr_tui.fs.channel import channel, receive, send
from cntr_tui.fs.fuse_connection import abort_connection, connection_of, set_read_ahead
from cntr_tui.fs.holder_process import HolderPlan, holder_main
from cntr_tui.fs.passthrough import Passthrough
from cntr_tui.fs.watchdog_process import watchdog_main
from cntr_tui.linux.namespaces import members, namespace_inode_or_none, open_namespace
from cntr_tui.linux.proc_stat import start_ticks
from cntr_tui.linux.procfs import open_root
from cntr_tui.settings import Settings

if TYPE_CHECKING:
    from cntr_tui.fs.merged import MergedOperations

log = logging.getLogger("cntr_tui.fs.server_process")  # also when run as __main__

DEFAULT_PROBE_DEADLINE = 3.0  # generous: a false abort breaks a healthy session
STARTUP_GRACE = 10.0
UNMOUNT_GRACE = 3.0
READ_AHEAD_KB = 4096
INIT_WAIT = 2.0  # seconds the ready line waits for INIT's answer, if it is not out yet
CONNECTION_GONE = frozenset({errno.ENODEV, errno.ECONNABORTED, errno.ENOTCONN})


# ---- teardown --------------------------------------------------------------------------


def kill_namespace_processes(inode: int, spare: int | None = None) -> None:
    for pid in members(inode, "mnt"):
        if pid != spare and pid != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---- server -----------------------------------------------------------------------------


def print_line(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def fail(message: str) -> None:
    print_line({"error": message})
    sys.exit(1)


def start_holder(
    args: argparse.Namespace, keep_out: socket.socket
) -> tuple[int, socket.socket, int | None]:
    """Fork the holder; returns its pid, its channel and our /dev/fuse fd (fuse mode)."""
    try:
        mnt_fd = open_namespace(args.pid, "mnt")
        root_fd = open_root(args.pid, os.O_PATH)
    except OSError as error:
        fail(f"cannot open the mount namespace of PID {args.pid}: {error.strerror}")
    if start_ticks(args.pid) != args.start_time:
        fail(f"process {args.pid} exited")
    dev_fuse_fd = host_tree_fd = None
    if args.mode == "fuse":
        dev_fuse_fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
    else:
        os.makedirs(mountapi.CONTAINER_ROOT, exist_ok=True)  # on the host, not the container
        host_tree_fd = mountapi.clone_tree("/")
    ours, theirs = channel()
    holder = os.fork()
    if holder == 0:
        ours.close()
        keep_out.close()  # the watchdog's channel: its EOF must mean the server is gone
        holder_main(HolderPlan(args.mode, mnt_fd, root_fd, dev_fuse_fd, host_tree_fd), theirs)
    theirs.close()
    os.close(mnt_fd)
    os.close(root_fd)
    if host_tree_fd is not None:
        os.close(host_tree_fd)
    return holder, ours, dev_fuse_fd


def expect(holder_channel: socket.socket, step: str) -> dict[str, object]:
    message = receive(holder_channel)
    if not message or message.get("step") != step:
        error = message.get("error") if message else "the holder process died"
        fail(str(error))
    assert message is not None
    return message


@dataclass
class Server:
    """The trio side: serve FUSE, hand out holds on the merged root, tear down."""

    args: argparse.Namespace
    settings: Settings
    holder: int
    holder_channel: socket.socket
    dev_fuse_fd: int | None
    watchdog_channel: socket.socket
    clients: int = 0
    exit_code: int = 0
    socket_inode: int | None = None
    holder_namespace: int | None = None
    connected: trio.Event = field(default_factory=trio.Event)
    idle: trio.Event = field(default_factory=trio.Event)
    passthrough: Passthrough | None = None  # FUSE mode, with `fastloop`
    fuse_done: trio.Event = field(default_factory=trio.Event)

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            if self.dev_fuse_fd is not None:
                import pyfuse3

                from cntr_tui.fs.merged import MergedOperations

                operations = MergedOperations(timeout=self.args.timeout)
                pyfuse3.init(operations, f"/dev/fd/{self.dev_fuse_fd}", set())
                self.passthrough = Passthrough(
                    self.dev_fuse_fd, enabled=self.settings.fs_passthrough
                )
                nursery.start_soon(self.serve_fuse, operations)
                send(self.holder_channel, step="serve")
            ready = await self.holder_message()
            if not ready or ready.get("step") != "ready":
                error = ready.get("error") if ready else "the holder process died"
                print_line({"error": str(error)})
                self.exit_code = 1
                await self.teardown(nursery)
                return
            self.holder_namespace = namespace_inode_or_none(self.holder, "mnt")
            connection = connection_of(self.holder) if self.dev_fuse_fd is not None else None
            info = {
                "holder": self.holder,
                "server": os.getpid(),
                "connection": connection,
                "mnt_ns": self.holder_namespace,
                "mode": self.args.mode,
            }
            if connection is not None:
                info["data_path"] = await self.data_path()
            if connection is not None:
                set_read_ahead(connection, READ_AHEAD_KB)
                send(self.watchdog_channel, holder=self.holder, connection=connection)
            listener = self.listen()
            line = (json.dumps(info) + "\n").encode()
            print_line(info)
            detach_stdout()
            nursery.start_soon(self.accept, listener, line)
            nursery.start_soon(self.watch_holder)
            with trio.move_on_after(STARTUP_GRACE):
                await self.connected.wait()
            if self.clients == 0:
                self.idle.set()
            await self.idle.wait()
            self.remove_socket(listener)
            await self.teardown(nursery)

    async def data_path(self) -> str:
        """What serves file data in FUSE mode: "passthrough", or "writeback cache
        (why not passthrough)"; logged when passthrough was asked for and is not in
        use (an ordinary fallback would leave a log file per session). INIT is
        answered by now (the holder's bind mounts walked into the mount); waited for
        a moment if not."""
        passthrough = self.passthrough
        if passthrough is None:
            return "writeback cache (pyfuse3's own loop)"
        await trio.to_thread.run_sync(passthrough.decided.wait, INIT_WAIT)
        described = passthrough.describe()
        if described != "passthrough" and passthrough.asked:  # not one of the known cases
            log.warning("FUSE data path: %s", described)
        return described

    def listen(self) -> trio.socket.SocketType:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.args.socket)  # a stale one: the starter holds the lock
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.bind(self.args.socket)
        sock.listen(64)
        self.socket_inode = os.stat(self.args.socket).st_ino
        return trio.socket.from_stdlib_socket(sock)

    def remove_socket(self, listener: trio.socket.SocketType) -> None:
        with contextlib.suppress(OSError):
            if os.stat(self.args.socket).st_ino == self.socket_inode:
                os.unlink(self.args.socket)
        listener.close()

    async def accept(self, listener: trio.socket.SocketType, line: bytes) -> None:
        async with trio.open_nursery() as nursery:
            while True:
                try:
                    client, _ = await listener.accept()
                except (OSError, trio.ClosedResourceError):
                    return
                self.clients += 1
                self.connected.set()
                nursery.start_soon(self.hold, client, line)

    async def hold(self, client: trio.socket.SocketType, line: bytes) -> None:
        """One session's hold: released by `release` (answered `last` or `shared`) or EOF."""
        released = False
        try:
            await client.send(line)
            while data := await client.recv(64):
                if b"release" in data:
                    released = True
                    self.release()
                    await client.send(b"last\n" if self.clients == 0 else b"shared\n")
                    return
        except OSError:
            pass
        finally:
            if not released:
                self.release()
            client.close()

    def release(self) -> None:
        self.clients -= 1
        if self.clients == 0:
            self.idle.set()

    async def holder_message(self) -> dict[str, object] | None:
        await trio.lowlevel.wait_readable(self.holder_channel)
        return receive(self.holder_channel)

    async def watch_holder(self) -> None:
        with contextlib.suppress(OSError):
            await self.holder_message()  # EOF: the holder died
        self.idle.set()

    async def serve_fuse(self, operations: MergedOperations) -> None:
        import pyfuse3

        from cntr_tui.fs import fastloop

        loop = fastloop.FastLoop.locate(self.settings)
        try:
            if loop is None:
                self.passthrough = None
                await pyfuse3.main(min_tasks=1, max_tasks=1)
            else:
                operations.listings_by_inode = True
                # file data then bypasses us (see `passthrough`), where the kernel offers it
                loop.passthrough = operations.passthrough = self.passthrough
                # writes then cost no GETXATTR each (see FUSE_HANDLE_KILLPRIV_V2)
                loop.add_init_flags(fastloop.FUSE_HANDLE_KILLPRIV_V2)
                # the kernel then keeps symlink targets (Debian's /lib, /bin, ...) in its
                # page cache instead of asking for each on every path walk
                operations.on_init = functools.partial(
                    loop.want_capabilities, fastloop.FUSE_CAP_CACHE_SYMLINKS
                )
                async with trio.open_nursery() as threads:
                    threads.start_soon(run_in_thread, loop.run, operations)
                    if await reads_come_here(loop.passthrough):
                        threads.start_soon(run_in_thread, loop.run, operations)
        except* OSError as group:  # pyfuse3.main runs a nursery: errors come grouped
            # ENODEV is libfuse's clean end; ECONNABORTED comes after a burst of RELEASEs
            # at teardown, ENOTCONN after an abort: all mean the connection is gone.
            if any(error.errno not in CONNECTION_GONE for error in leaves(group)):
                log.error("FUSE main loop failed", exc_info=group)
                self.exit_code = 1
        finally:
            self.fuse_done.set()
            self.idle.set()

    async def teardown(self, nursery: trio.Nursery) -> None:
        # replies to RELEASEs racing the unmount fail harmlessly: keep them out of the log
        logging.getLogger("pyfuse3").setLevel(logging.CRITICAL)
        if self.holder_namespace is not None:
            kill_namespace_processes(self.holder_namespace, spare=self.holder)
        self.holder_channel.close()
        if self.dev_fuse_fd is not None:
            with trio.move_on_after(UNMOUNT_GRACE):
                await self.fuse_done.wait()
            if not self.fuse_done.is_set():
                connection = connection_of(self.holder)
                if connection is not None:
                    abort_connection(connection)
                with trio.move_on_after(UNMOUNT_GRACE):
                    await self.fuse_done.wait()
            if self.fuse_done.is_set():  # else the loop's thread may still use the session
                import pyfuse3

                with contextlib.suppress(Exception):
                    pyfuse3.close(unmount=False)
        nursery.cancel_scope.cancel()


async def reads_come_here(passthrough: Passthrough | None) -> bool:
    """Once INIT is answered: whether file data reaches this server (no passthrough).
    Then a second loop thread serves a READ or WRITE while the first waits for the
    disk. With passthrough only metadata, OPEN and RELEASE come, each handled under the
    loop's one lock, and a second thread only contends for that lock and the GIL with
    the first: measured, it took the server's CPU per open+read+close of a small file
    from ~60 us to ~105 us (bench/RESULTS.md, "OPEN and RELEASE in the request loop")."""
    if passthrough is None:
        return True
    await trio.to_thread.run_sync(passthrough.decided.wait, abandon_on_cancel=True)
    return not passthrough.active


async def run_in_thread(
    function: Callable[[MergedOperations], None], operations: MergedOperations
) -> None:
    await trio.to_thread.run_sync(function, operations, abandon_on_cancel=True)


def leaves(group: BaseExceptionGroup[OSError]) -> list[OSError]:
    found: list[OSError] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            found.extend(leaves(error))
        else:
            found.append(error)
    return found


def detach_stdout() -> None:
    null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    os.dup2(null, 1)
    os.close(null)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cntr_tui.fs.server_process")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--start-time", type=int, required=True)
    parser.add_argument("--mode", choices=("fuse", "mount"), default="fuse")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--probe-deadline", type=float, default=DEFAULT_PROBE_DEADLINE)
    parser.add_argument("--timeout", type=float, default=60.0, help="kernel cache timeout")
    parser.add_argument("--log", help="log file, created only when there is something to log")
    args = parser.parse_args(argv)
    settings = Settings.from_environment()
    handler = logging.FileHandler(args.log, delay=True) if args.log else logging.StreamHandler()
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(name)s: %(message)s",
        handlers=[handler],
    )
    os.umask(0)  # the kernel applied the caller's umask already

    watchdog_ours, watchdog_theirs = channel()
    watchdog = None
    if args.mode == "fuse":
        server_pid = os.getpid()
        watchdog = os.fork()
        if watchdog == 0:
            watchdog_ours.close()
            watchdog_main(server_pid, watchdog_theirs, args.probe_deadline, args.socket)
    watchdog_theirs.close()

    holder, holder_channel, dev_fuse_fd = start_holder(args, watchdog_ours)
    if args.mode == "fuse":
        expect(holder_channel, "mounted")
    server = Server(args, settings, holder, holder_channel, dev_fuse_fd, watchdog_ours)
    if settings.fs_profile:  # a developer's switch
        import cProfile

        cProfile.runctx("trio.run(server.run)", globals(), {"server": server}, settings.fs_profile)
    else:
        trio.run(server.run)
    if watchdog is not None:
        watchdog_ours.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(watchdog, 0)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(holder, 0)
    sys.exit(server.exit_code)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        log.exception("the server failed")
        sys.exit(1)
