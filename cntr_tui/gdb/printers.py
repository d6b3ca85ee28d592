"""gdb's pretty printers for the container's program: which ones the host has (libstdc++'s
from the host's GCC, Rust's from the host's Rust toolchain), and the gdb commands that
register them for the program's objfiles.

Why gdb does not find them by itself: its auto-load looks for
`<scripts-directory>/<objfile's real path>-gdb.py`. The container's libstdc++ is an
objfile under the sysroot (`/var/lib/cntr/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30`
inside a session, `/proc/PID/root/...` from the host), so Debian's
`/usr/share/gdb/auto-load/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30-gdb.py` is never
matched, and a container's libstdc++ of another version would match no host file at all.
Over MI, var-objects (the watch pane's members) go through the printers only after
`-enable-pretty-printing`; `-stack-list-variables` and `-data-evaluate-expression` use
them as soon as they are registered.

What gdb is told (`-iex` on its command line, before anything else; one MI command):
- libstdc++: a handler of gdb's new-objfile event registers the host's printers
  (`libstdcxx.v6.register_libstdcxx_printers`) for each libstdc++ objfile under the
  container's root, as the auto-load script would have; the printers' module is imported
  only then (a C program never pays for it). That registration (the module's ~195
  printers, type printers and xmethods) took 10-18 ms in gdb inside a session (6 runs;
  ~8.5 ms on the host, as Debian's auto-load costs a host C++ program): it lands in the
  attach's stop, so in a C++ program's snapshot pause. When the container's libstdc++ names a
  version (`libstdc++.so.6.0.32`, read from its link) other than the one the host's
  printers came with, gdb's console says so. Each printer found gives at most
  `print elements` children (see LIBSTDCXX_REGISTER): a var-object's are not bounded by
  gdb.
- Rust: a Rust executable names `gdb_load_rust_pretty_printers.py` in its
  `.debug_gdb_scripts` section; gdb looks for that name on its source path, so the host
  toolchain's `lib/rustlib/etc` is added there (last) and to the auto-load safe path (as
  `rust-gdb` does). Nothing is read until a Rust program is loaded.
- `-enable-pretty-printing`, for var-objects, over MI (GdbSession.start). Not as `-iex`:
  there the CLI's `interpreter-exec mi` prints its `^done` on gdb's console (which
  `--batch` would show), and the same from Python with `to_string=True` leaves gdb 13 to
  crash at a later `interpreter-exec mi` (tried: SIGSEGV at the next var-create).

Only host files are run: a container's own printers (its `/usr/share/gcc/python`) would
be code from the container executed by gdb, which runs with the debugger's rights.
Finding the printers costs a few stat calls (no `rustc --print sysroot`, which takes
tens of milliseconds through rustup's proxy): it is on the start's path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cntr_tui.gdb.placement import Placement

LIBSTDCXX_PYTHON = "/usr/share/gcc/python"  # Debian's libstdc++6: libstdcxx/v6/printers.py
LIBSTDCXX_VERSIONED = r"libstdc\+\+\.so\.(\d+\.\d+\.\d+)"  # the name of a versioned one
# where the host's libstdc++ is, to tell the version its printers came with
HOST_LIBRARY_DIRS = ("/usr/lib/{machine}-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64")
VERSION_NOTE = (
    "cntr-tui: the container's libstdc++ is {container}, the host's pretty printers are "
    "from libstdc++ {host}: standard library values may show raw or wrong"
)
RUST_PRINTERS_DIR = "lib/rustlib/etc"  # under `rustc --print sysroot`
RUST_LOADER = "gdb_load_rust_pretty_printers.py"
RUSTUP_DEFAULT = re.compile(r'^default_toolchain\s*=\s*"([^"]+)"', re.MULTILINE)


@dataclass(frozen=True)
class HostPrinters:
    """The pretty printers this host has, as host paths (None: not found).

    `libstdcxx`: the folder to put on gdb's Python path (it holds `libstdcxx/v6`).
    `libstdcxx_version`: the host's libstdc++ (`6.0.30`) those printers came with.
    `rust`: the folder holding `gdb_load_rust_pretty_printers.py`.
    """

    libstdcxx: str | None = None
    libstdcxx_version: str | None = None
    rust: str | None = None


def library_version(path: str) -> str | None:
    """`6.0.30` for a libstdc++ named `libstdc++.so.6.0.30`, or for a link to one (one
    level read: only the name counts, wherever the link points); None for a bare
    `libstdc++.so.6` (a copy), an unreadable link, or another library."""
    name = path
    if os.path.islink(path):
        try:
            name = os.readlink(path)
        except OSError:
            return None
    found = re.fullmatch(LIBSTDCXX_VERSIONED, os.path.basename(name))
    return found.group(1) if found else None


def host_libstdcxx_version(machine: str | None = None) -> str | None:
    """The version of the host's own libstdc++.so.6 (the printers' companion)."""
    machine = machine or os.uname().machine
    for folder in HOST_LIBRARY_DIRS:
        version = library_version(os.path.join(folder.format(machine=machine), "libstdc++.so.6"))
        if version is not None:
            return version
    return None


def version_note(container_version: str | None, host_version: str | None) -> str | None:
    """The line gdb's console shows when the container's libstdc++ is another version
    than the one the host's printers were written for; None when equal or unknown."""
    if not container_version or not host_version or container_version == host_version:
        return None
    return VERSION_NOTE.format(container=container_version, host=host_version)


def rust_sysroot(environment: Mapping[str, str]) -> str | None:
    """What `rustc --print sysroot` would say, from files alone: rustup's default
    toolchain (RUSTUP_TOOLCHAIN, else its settings.toml) when `rustc` on PATH is
    rustup's proxy, else the prefix of the `rustc` binary (`/usr` for Debian's)."""
    rustc = next(
        (
            candidate
            for folder in environment.get("PATH", "").split(":")
            if folder
            for candidate in [os.path.join(folder, "rustc")]
            if os.access(candidate, os.X_OK)
        ),
        None,
    )
    if rustc is None:
        return None
    binary = os.path.realpath(rustc)
    proxy = os.path.join(os.path.dirname(binary), "rustup")  # a link or a hard link to it
    if os.path.basename(binary) == "rustup" or samefile(binary, proxy):
        home = environment.get("RUSTUP_HOME") or os.path.join(
            environment.get("HOME", "/root"), ".rustup"
        )
        toolchain = environment.get("RUSTUP_TOOLCHAIN") or rustup_default(home)
        if toolchain is None:
            return None
        toolchains = os.path.join(home, "toolchains")
        try:
            installed = sorted(os.listdir(toolchains))
        except OSError:
            return None
        # settings.toml says "stable" or "stable-x86_64-unknown-linux-gnu"
        for name in installed:
            if name == toolchain or name.startswith(toolchain + "-"):
                return os.path.join(toolchains, name)
        return None
    return os.path.dirname(os.path.dirname(binary))


def samefile(one: str, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def rustup_default(rustup_home: str) -> str | None:
    try:
        with open(os.path.join(rustup_home, "settings.toml"), encoding="utf-8") as settings:
            found = RUSTUP_DEFAULT.search(settings.read())
    except OSError:
        return None
    return found.group(1) if found else None


def find_host_printers(environment: Mapping[str, str] | None = None) -> HostPrinters:
    """The printers this host has (see HostPrinters)."""
    environment = os.environ if environment is None else environment
    libstdcxx = LIBSTDCXX_PYTHON
    if not os.path.isfile(os.path.join(libstdcxx, "libstdcxx/v6/printers.py")):
        libstdcxx = None
    sysroot = rust_sysroot(environment)
    rust = os.path.join(sysroot, RUST_PRINTERS_DIR) if sysroot else None
    if rust is not None and not os.path.isfile(os.path.join(rust, RUST_LOADER)):
        rust = None
    return HostPrinters(
        libstdcxx=libstdcxx,
        libstdcxx_version=host_libstdcxx_version() if libstdcxx else None,
        rust=rust,
    )


# Run by gdb's Python when a libstdc++ objfile is loaded (given `objfile` and the
# arguments of LIBSTDCXX_HOOK): the host's printers registered for it (unless gdb's
# auto-load will), bounded, and the note on a version mismatch. Bounded: each printer libstdc++'s
# collection finds gives at most `print elements` children (one more, so gdb still prints
# its "...", two for a map's key and value). gdb bounds what it prints by that setting,
# but not a var-object's children: `-var-list-children` of a 1,000,000-int vector listed
# them all (43 s, gdb answering nothing else meanwhile). Short on purpose: gdb takes ~1 us
# a character of the start's command line that carries it.
LIBSTDCXX_REGISTER = """\
import itertools, os, re, sys
if python_dir not in sys.path:
    sys.path.insert(0, python_dir)
from libstdcxx.v6 import printers, register_libstdcxx_printers
# a host library under its own path: gdb's auto-load registers them after this handler
if root or not objfile.filename.startswith("/"):
    register_libstdcxx_printers(objfile)
def bounded(self, value, find=printers.Printer.__call__):
    found = find(self, value)
    limit = gdb.parameter("print elements")
    if found is not None and limit and hasattr(found, "children"):
        hint = found.display_hint() if hasattr(found, "display_hint") else None
        children = found.children
        found.children = lambda: itertools.islice(children(), limit + 1 + (hint == "map"))
    return found
if not hasattr(printers.Printer, "unbounded"):
    printers.Printer.unbounded, printers.Printer.__call__ = printers.Printer.__call__, bounded
try:
    found = re.fullmatch(versioned, os.path.basename(os.readlink(objfile.filename)))
except OSError:  # not a link: a bare libstdc++.so.6 names no version
    found = re.fullmatch(versioned, os.path.basename(objfile.filename))
if found and host_version and found.group(1) != host_version:
    gdb.write(note.format(container=found.group(1), host=host_version) + "\\n")
"""

# Run by gdb's Python at the start (as one `python exec(...)` line): the new-objfile
# handler, called with the container's root as gdb names it, the printers' folder, the
# host's libstdc++ version, the version pattern (LIBSTDCXX_VERSIONED), the note
# (VERSION_NOTE) and LIBSTDCXX_REGISTER.
LIBSTDCXX_HOOK = """\
def _cntr_tui_libstdcxx(root, python_dir, host_version, versioned, note, register):
    def loaded(event):
        objfile = event.new_objfile
        name = objfile.filename or ""
        if objfile.owner is not None or (root and not name.startswith(root + "/")):
            return
        if not name.rpartition("/")[2].startswith("libstdc++.so."):
            return
        try:
            exec(register, {"gdb": gdb, "objfile": objfile, "root": root, "note": note,
                            "python_dir": python_dir, "host_version": host_version,
                            "versioned": versioned})
        except Exception as error:
            gdb.write(f"cntr-tui: no libstdc++ pretty printers from {python_dir}: {error!r}\\n")
    gdb.events.new_objfile.connect(loaded)
"""


def printer_commands(placement: Placement, printers: HostPrinters) -> list[str]:
    """The gdb CLI commands that register `printers` for the program's objfiles: the
    libstdc++ hook, Rust's folder on the auto-load safe path and at the end of the source
    path (`set directories`: `directory` would put it first, where every source file
    gdb looks for would be looked for first, and print the path)."""
    host = placement.host_root.rstrip("/")
    commands = []
    root = placement.container_root.rstrip("/")
    # with no container root the program's libstdc++ is the host's (no version to note):
    # gdb's auto-load registers the printers for its own path, not for a `target:` one
    # (through gdbserver without a sysroot), where the hook does
    if printers.libstdcxx is not None:
        arguments = (
            root,
            host + printers.libstdcxx,
            printers.libstdcxx_version if root else None,
            LIBSTDCXX_VERSIONED,
            VERSION_NOTE,
            LIBSTDCXX_REGISTER,
        )
        code = f"{LIBSTDCXX_HOOK}_cntr_tui_libstdcxx{arguments!r}\n"
        commands.append(f"python exec({code!r}, {{'gdb': gdb}})")
    if printers.rust is not None:
        rust = host + printers.rust
        commands += [f"add-auto-load-safe-path {rust}", f"set directories $cdir:$cwd:{rust}"]
    return commands


def printer_arguments(placement: Placement, printers: HostPrinters | None = None) -> list[str]:
    """`-iex CMD` pairs for gdb's command line: printer_commands of `printers`
    (find_host_printers() when None). On the command line, they run while gdb starts,
    which `cntr-tui gdb --batch` overlaps with its own imports; sent over MI, the libstdc++
    hook's ~2 KB line took gdb ~2 ms after the start."""
    found = find_host_printers() if printers is None else printers
    return [arg for command in printer_commands(placement, found) for arg in ("-iex", command)]


# MI's switch for var-objects: sent by GdbSession.start with its first command
ENABLE_MI_PRINTING = "-enable-pretty-printing"
