"""gdbserver as the tracer: the host's files it runs from, and how gdb reaches it.

gdb dies easily inside an attach session (its pages come from the merged root's file
server), and a dying tracer leaves its breakpoint traps in the program. So the tracer
is gdbserver, started apart from gdb (not as its child: the session's reaper ends what
a command leaves behind), from the host's own files (not through the merged root) and
chrooted into the container's root, so that nothing it touches depends on the file
server. gdb talks to it through two pipes: gdbserver's stdin and stdout, which gdb's
`target extended-remote | ...` command opens by `/proc/PID/fd/N` (PID as gdb sees it).

    files = find_gdbserver()                      # None: no gdbserver on the host
    argv = files.argv("/proc/self/fd/3")          # run from a folder descriptor
    target = bridge_target(gdbserver_pid, container_pid)  # `target extended-remote` arg
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass

from cntr_tui.linux.procfs import exists_in_root

LIST_LINE = re.compile(r"^\s*(\S+) => (/\S+) \(0x[0-9a-f]+\)$")
THREAD_DB = "libthread_db.so.1"


@dataclass(frozen=True)
class GdbserverFiles:
    """Host paths (symlinks resolved) of gdbserver, its loader and libraries.

    `root` is the deepest folder holding all of them: opened once (O_PATH), it gives a
    process in the container a way to these files that does not go through the merged
    root. `preload` are libraries loaded up front that gdbserver would otherwise dlopen
    later (libthread_db), when that way may be gone.
    """

    program: str
    loader: str
    library_dirs: tuple[str, ...]
    preload: tuple[str, ...]
    root: str

    def argv(self, folder: str | None = None) -> list[str]:
        """gdbserver's command line, its files named under `folder` (the same folder as
        `root`, seen elsewhere: `/proc/self/fd/N`), in extended mode on stdin/stdout."""
        base = self.root if folder is None else folder

        def named(path: str) -> str:
            return base.rstrip("/") + path[len(self.root.rstrip("/")) :]

        argv = [named(self.loader), "--inhibit-cache"]
        argv += ["--library-path", ":".join(named(d) for d in self.library_dirs)]
        if self.preload:
            argv += ["--preload", " ".join(named(p) for p in self.preload)]
        if loader_takes_argv0():
            argv += ["--argv0", "gdbserver"]
        return [*argv, named(self.program), "--once", "--multi", "-"]


def loader_takes_argv0() -> bool:
    """ld.so --argv0 exists since glibc 2.33 (the loader is the host's: our libc)."""
    version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    match = re.search(r"(\d+)\.(\d+)", version)
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= (2, 33)


def program_interpreter(path: str) -> str | None:
    """PT_INTERP of a 64-bit little-endian ELF file."""
    try:
        with open(path, "rb") as file:
            header = file.read(64)
            if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
                return None
            phoff = int.from_bytes(header[0x20:0x28], "little")
            phentsize = int.from_bytes(header[0x36:0x38], "little")
            phnum = int.from_bytes(header[0x38:0x3A], "little")
            file.seek(phoff)
            table = file.read(phentsize * phnum)
            for index in range(phnum):
                entry = table[index * phentsize : (index + 1) * phentsize]
                if int.from_bytes(entry[0:4], "little") == 3:  # PT_INTERP
                    offset = int.from_bytes(entry[8:16], "little")
                    size = int.from_bytes(entry[32:40], "little")
                    file.seek(offset)
                    return file.read(size).rstrip(b"\0").decode()
    except (OSError, UnicodeDecodeError):
        return None
    return None


def find_gdbserver(name: str = "gdbserver") -> GdbserverFiles | None:
    """The host's gdbserver and the files it loads; None when there is none."""
    import shutil  # here: gdbserver.py is on the way to gdb's start, shutil is not

    found = shutil.which(name)
    if found is None:
        return None
    program = os.path.realpath(found)
    interpreter = program_interpreter(program)
    if interpreter is None:
        return None
    loader = os.path.realpath(interpreter)
    try:
        listing = subprocess.run(
            [loader, "--list", program],
            capture_output=True,
            text=True,
            timeout=10,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        )
    except OSError:
        return None
    if listing.returncode != 0:
        return None
    libraries = [
        os.path.realpath(match.group(2))
        for line in listing.stdout.splitlines()
        if (match := LIST_LINE.match(line))
    ]
    directories = tuple(dict.fromkeys(os.path.dirname(path) for path in libraries))
    preload = tuple(
        path
        for directory in directories
        if os.path.exists(path := os.path.join(directory, THREAD_DB))
    )[:1]
    root = os.path.commonpath([program, loader, *directories, *preload])
    return GdbserverFiles(program, loader, directories, preload, root)


def bridge_target(gdbserver_pid: int, container_pid: int | None, input_fd: int = 0) -> str:
    """The `target extended-remote` argument that joins gdb to gdbserver's stdout and its
    stdin (or its descriptor `input_fd`: the console's relay, see debug/interrupt_relay.py),
    named by `/proc/PID/fd` as gdb's PID namespace sees gdbserver. `container_pid`: a
    host PID in the container whose /dev gdb sees (a merged root's); None: the host's."""
    from_server = shlex.quote(f"/proc/{gdbserver_pid}/fd/1")
    to_server = shlex.quote(f"/proc/{gdbserver_pid}/fd/{input_fd}")
    # Opening a pipe through /proc gives a new end on the same pipe: one cat copies
    # gdbserver's stdout to gdb's socket, the shell becomes the copy the other way (gdb
    # waits for its child when it closes the connection). dash gives a background job
    # /dev/null as stdin before its own redirection: without one, `setsid -f` forks the
    # first cat instead (an exec more, ~10 ms of a warm `gdb --batch`).
    if container_pid is None or exists_in_root(container_pid, "/dev/null"):
        return f"| cat <{from_server} & exec cat >{to_server}"
    return f"| setsid -f cat <{from_server}; exec cat >{to_server}"
