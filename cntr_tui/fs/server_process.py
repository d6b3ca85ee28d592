"""The merged-root server: one process per (container, fs mode), shared by sessions.

`python -m cntr_tui.fs.server_process --pid PID --start-time T --mode fuse|mount --socket PATH`

Process tree, all forked before any thread exists:
- the server (host namespaces): serves FUSE requests for the host's `/` (pyfuse3;
  requests are read by two threads running `fastloop.FastLoop`, or by `pyfuse3.main`
  where pyfuse3's internals cannot be found) and counts sessions in trio: each session
  holds a connection to the unix socket `PATH`; when the last one closes, the server
  tears everything down and exits;
- the holder (forked child): joins the container's mount namespace, takes a private
  copy, builds the layout (see `mountapi`) and then just stays alive: sessions join its
  mount namespace, so the merged root and its page cache outlive any one session;
- the watchdog (forked child, host namespaces): probes the FUSE connection every
  second through `/proc/HOLDER/root`; if a probe is not answered within the deadline,
  or the server goes away, it aborts the connection through fusectl (mounted in a
  throwaway mount namespace) so callers get ENOTCONN instead of hanging in D state,
  and kills a stopped server.

stdout gets one JSON line: `{"holder": PID, "connection": N|null, "mnt_ns": INODE}` once
the layout is ready, or `{"error": "..."}`. Each client connecting to the socket gets the
same line; its connection is its hold on the merged root.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import json
import logging
import os
import select
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import trio

from cntr_tui.fs import mountapi
from cntr_tui.linux import syscalls as ns
from cntr_tui.linux.mountinfo import read_mountinfo
from cntr_tui.linux.namespaces import members, namespace_inode_or_none, open_namespace
from cntr_tui.linux.pidfd import wait_exit
from cntr_tui.linux.proc_stat import start_ticks

if TYPE_CHECKING:
    from cntr_tui.fs.merged import MergedRoot

log = logging.getLogger("cntr_tui.fs.server_process")

PROBE_INTERVAL = 1.0
DEFAULT_PROBE_DEADLINE = 3.0  # generous: a false abort breaks a healthy session
STARTUP_GRACE = 10.0
UNMOUNT_GRACE = 3.0
READ_AHEAD_KB = 4096
FUSE_THREADS = 2  # a second thread reads ahead while the first waits for the disk
FUSECTL_DIR = "/sys/fs/fuse/connections"
CONNECTION_GONE = frozenset({errno.ENODEV, errno.ECONNABORTED, errno.ENOTCONN})


# ---- messages over SOCK_SEQPACKET socketpairs -----------------------------------------


def send(sock: socket.socket, **message: object) -> None:
    sock.send(json.dumps(message).encode())


def receive(sock: socket.socket) -> dict[str, object] | None:
    data = sock.recv(65536)
    return json.loads(data) if data else None


def channel() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)


# ---- fusectl abort and process sweep (used by the server and the watchdog) -------------


def abort_connection(connection: int) -> bool:
    """Abort FUSE connection `connection`; True if the abort file was written.

    fusectl is not mounted on the host: mount it in a throwaway mount namespace of a
    forked child, so the host's mount table is never touched.
    """
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ns.unshare(ns.CLONE_NEWNS)
            ns.mount(None, "/", None, ns.MS_REC | ns.MS_PRIVATE)
            ns.mount("fusectl", FUSECTL_DIR, "fusectl", 0)
            with open(f"{FUSECTL_DIR}/{connection}/abort", "w") as file:
                file.write("1")
            code = 0
        except OSError:
            pass
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def kill_namespace_processes(inode: int, spare: int | None = None) -> None:
    for pid in members(inode, "mnt"):
        if pid != spare and pid != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---- holder ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HolderPlan:
    mode: str
    mnt_namespace_fd: int
    root_fd: int
    dev_fuse_fd: int | None
    host_tree_fd: int | None


def holder_main(plan: HolderPlan, server: socket.socket) -> None:
    """Build the layout, report, then hold it until the server closes the channel."""
    try:
        container_tree = mountapi.clone_container_tree(plan.mnt_namespace_fd, plan.root_fd)
        os.close(plan.mnt_namespace_fd)
        os.close(plan.root_fd)
        if plan.mode == "fuse":
            assert plan.dev_fuse_fd is not None
            fat_root = mountapi.fuse_mount(plan.dev_fuse_fd)
            os.close(plan.dev_fuse_fd)  # only the server may hold /dev/fuse
            send(server, step="mounted")
            if receive(server) != {"step": "serve"}:
                os._exit(1)
        else:
            assert plan.host_tree_fd is not None
            fat_root = plan.host_tree_fd
        mountapi.install_root(fat_root, container_tree)
        os.close(fat_root)
        os.close(container_tree)
        bound = mountapi.bind_container_files()
        send(server, step="ready", bound=bound)
    except OSError as error:
        with contextlib.suppress(OSError):
            send(server, step="error", error=f"building the merged root: {error.strerror or error}")
        os._exit(1)
    while True:
        try:
            if not server.recv(16):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    os._exit(0)


# ---- watchdog ---------------------------------------------------------------------------


def probe(holder: int, deadline: float, serial: int) -> bool:
    """Ask the file server one LOOKUP through the holder's root; True if answered in time."""
    pid = os.fork()
    if pid == 0:
        with contextlib.suppress(OSError):
            os.stat(f"/proc/{holder}/root/.cntr-tui-watchdog-{serial}")
        os._exit(0)
    pidfd = os.pidfd_open(pid)
    try:
        ready = wait_exit(pidfd, deadline)
    finally:
        os.close(pidfd)
    if ready:
        os.waitpid(pid, 0)
        return True
    return False  # the probe child is reaped after the abort frees it


def remove_dead_socket(path: str) -> None:
    """Unlink `path` if no server listens on it (a killed server cannot clean up)."""
    probe_socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        probe_socket.connect(path)
    except ConnectionRefusedError:
        with contextlib.suppress(OSError):
            os.unlink(path)
    except OSError:
        pass
    finally:
        probe_socket.close()


def watchdog_main(
    server_pid: int, server: socket.socket, deadline: float, socket_path: str
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    info = None
    with contextlib.suppress(OSError):
        info = receive(server)
    if not info or info.get("connection") is None:
        os._exit(0)
    holder = int(info["holder"])  # type: ignore[arg-type]
    connection = int(info["connection"])  # type: ignore[arg-type]
    serial = 0
    while True:
        ready, _, _ = select.select([server], [], [], PROBE_INTERVAL)
        if ready:
            with contextlib.suppress(OSError):
                if server.recv(16):
                    continue
            # The server closed its end: it is done or dead. A dead server's connection
            # is aborted by the kernel already; aborting twice is harmless.
            abort_connection(connection)
            remove_dead_socket(socket_path)
            break
        serial += 1
        if not probe(holder, deadline, serial):
            log.warning("FUSE server %d did not answer in %.1fs: aborting", server_pid, deadline)
            abort_connection(connection)
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.unlink(socket_path)  # nobody answers on it any more
            break
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, 0):
            pass
    os._exit(0)


# ---- server -----------------------------------------------------------------------------


def print_line(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def fail(message: str) -> None:
    print_line({"error": message})
    sys.exit(1)


def set_read_ahead(connection: int, kib: int) -> None:
    """Raise the FUSE connection's read-ahead window (the kernel's default is 128 KiB).

    A sequential read then goes out as 1 MiB requests (libfuse's max_pages), several
    in flight, instead of one 128 KiB request per round trip.
    """
    try:
        with open(f"/sys/class/bdi/0:{connection}/read_ahead_kb", "w") as file:
            file.write(str(kib))
    except OSError as error:
        log.warning("cannot set the read-ahead of FUSE connection %d: %s", connection, error)


def connection_of(holder: int) -> int | None:
    for mount in read_mountinfo(holder):
        if mount.mount_point == "/" and mount.is_fuse:
            return mount.minor
    return None


def start_holder(
    args: argparse.Namespace, keep_out: socket.socket
) -> tuple[int, socket.socket, int | None]:
    """Fork the holder; returns its pid, its channel and our /dev/fuse fd (fuse mode)."""
    try:
        mnt_fd = open_namespace(args.pid, "mnt")
        root_fd = os.open(f"/proc/{args.pid}/root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
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
    fuse_done: trio.Event = field(default_factory=trio.Event)

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            if self.dev_fuse_fd is not None:
                import pyfuse3

                from cntr_tui.fs.merged import MergedRoot

                operations = MergedRoot(timeout=self.args.timeout)
                pyfuse3.init(operations, f"/dev/fd/{self.dev_fuse_fd}", set())
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

    async def serve_fuse(self, operations: MergedRoot) -> None:
        import pyfuse3

        from cntr_tui.fs import fastloop

        loop = fastloop.FastLoop.locate()
        try:
            if loop is None:
                await pyfuse3.main(min_tasks=1, max_tasks=1)
            else:
                operations.listings_by_inode = True
                # the kernel then keeps symlink targets (Debian's /lib, /bin, ...) in its
                # page cache instead of asking for each on every path walk
                operations.on_init = functools.partial(
                    loop.want_capabilities, fastloop.FUSE_CAP_CACHE_SYMLINKS
                )
                async with trio.open_nursery() as threads:
                    for _ in range(FUSE_THREADS):
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


async def run_in_thread(function: Callable[[MergedRoot], None], operations: MergedRoot) -> None:
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
    server = Server(args, holder, holder_channel, dev_fuse_fd, watchdog_ours)
    profile_path = os.environ.get("CNTR_TUI_FS_PROFILE")  # a developer's switch
    if profile_path:
        import cProfile

        cProfile.runctx("trio.run(server.run)", globals(), {"server": server}, profile_path)
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
