"""Python frames of a CPython process, read by py-spy from the host, installing nothing
in the container; of a kept core, read by pystack (`read_python_core`).

py-spy reads the program's memory (process_vm_readv) and its files through
/proc/PID/root, so a container's interpreter is found at its own path (pystack, measured
beside it, opens the host's path instead and fails under docker: bench/RESULTS.md). It
runs as its own process, so a fault in it never takes ours along, and with
`--nonblocking`: gdb already holds the program stopped when it is asked, and a second
tracer could not attach. Every failure comes back as `LanguageStacks` with its
`missing` line, never as an exception: the native stack is shown either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from cntr_tui.languages.records import (
    LanguageFrame,
    LanguageStacks,
    LanguageThread,
    LanguageVariable,
)
from cntr_tui.linux.proc_status import nspids_of, status_fields
from cntr_tui.linux.procfs import PROC, thread_ids

LANGUAGE = "python"
READ_TIMEOUT = 10.0  # s: a reader that does not answer by then is killed
CORE_READ_TIMEOUT = 60.0
INTERPRETER_NAME = re.compile(r"(^|/)python\d?(\.\d+)?[a-z]*$")
LIBPYTHON = re.compile(r"/libpython(\d+\.\d+)[a-z]*\.so")
STDLIB = re.compile(r"^python(\d+\.\d+)$")
FIX = {
    "unsupported": "a py-spy release that supports this interpreter's version would",
    "not-found": "py-spy found no interpreter state in it (not CPython, or a build it cannot read)",
}


def py_spy() -> str | None:
    """py-spy from our own environment (its wheel puts it beside our interpreter)."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def is_python_process(host_pid: int) -> bool:
    """Whether the process runs CPython: its executable is named like an interpreter, or
    it maps a libpython (an embedded interpreter)."""
    try:
        executable = os.readlink(f"{PROC}/{host_pid}/exe")
    except OSError:
        return False
    if INTERPRETER_NAME.search(executable.removesuffix(" (deleted)")):
        return True
    try:
        with open(f"{PROC}/{host_pid}/maps", encoding="utf-8", errors="replace") as maps:
            return any(LIBPYTHON.search(line) for line in maps)
    except OSError:
        return False


def namespace_lwps(host_pid: int) -> dict[int, int]:
    """Each thread as the program's PID namespace numbers it -> as the host does."""
    lwps: dict[int, int] = {}
    for host_tid in thread_ids(host_pid):
        with contextlib.suppress(OSError):
            lwps[nspids_of(status_fields(f"{host_pid}/task/{host_tid}"), host_tid)[-1]] = host_tid
    return lwps


def frame_record(frame: dict[str, Any]) -> LanguageFrame:
    listed = frame.get("locals")
    variables = None
    if listed is not None:
        variables = tuple(
            LanguageVariable(v["name"], v.get("repr") or "?", bool(v.get("arg"))) for v in listed
        )
    return LanguageFrame(
        frame["name"],
        frame.get("filename"),
        frame.get("line"),
        bool(frame.get("is_entry")),
        variables,
    )


def stacks_from_dump(
    dump: list[dict[str, Any]], lwps: dict[int, int], version: str | None, reader: str, ms: float
) -> LanguageStacks:
    """py-spy's `dump --json` as records; its `os_thread_id` is the thread's native id,
    as the program's own PID namespace numbers it."""
    threads = []
    for thread in dump:
        lwp = thread.get("os_thread_id")
        frames = tuple(frame_record(frame) for frame in thread.get("frames", []))
        host_tid = lwps.get(lwp, lwp) if lwp is not None else 0
        threads.append(
            LanguageThread(
                host_tid, lwp, thread.get("thread_name"), frames, bool(thread.get("owns_gil"))
            )
        )
    return LanguageStacks(LANGUAGE, version, tuple(threads), pause_ms=ms, reader=reader)


def missing_line(reader: str, error: str) -> str:
    kind = "unsupported" if "nsupported" in error else "not-found"
    return f"Python frames missing: {reader}: {error}; {FIX[kind]}"


def interpreter_version(host_pid: int) -> str | None:
    """X.Y from a libpython's file name, else from the standard library's folder beside
    the interpreter (PREFIX/lib/pythonX.Y for PREFIX/bin/python3); None when neither
    tells."""
    try:
        with open(f"{PROC}/{host_pid}/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                found = LIBPYTHON.search(line)
                if found:
                    return found.group(1)
        executable = os.readlink(f"{PROC}/{host_pid}/exe").removesuffix(" (deleted)")
    except OSError:
        return None
    library = Path(executable).parent.parent / "lib"
    # a chrooted process's exe link names the host's path, a pivoted one its own
    for folder in (f"{PROC}/{host_pid}/root{library}", str(library)):
        with contextlib.suppress(OSError):
            folders = os.listdir(folder)
            break
    else:
        return None
    versions = sorted(found.group(1) for name in folders if (found := STDLIB.match(name)))
    return versions[-1] if len(versions) == 1 else None


async def run_reader(
    argv: list[str], timeout: float = READ_TIMEOUT
) -> tuple[bytes, str | None, float]:
    """A reader's output, the one line of its failure (None when it succeeded), and
    how long it took (ms); a reader past `timeout` is killed."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return b"", "timed out", (time.perf_counter() - started) * 1000
    ms = (time.perf_counter() - started) * 1000
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        return (
            out,
            lines[-1].removeprefix("Error: ") if lines else f"exit status {process.returncode}",
            ms,
        )
    return out, None, ms


@functools.cache
def reader_name() -> str:
    try:
        return f"py-spy {metadata.version('py-spy')}"
    except metadata.PackageNotFoundError:
        return "py-spy"


async def read_python_stacks(
    host_pid: int, with_locals: bool = False, version: str | None = None
) -> LanguageStacks:
    """The Python stacks of a process that gdb holds stopped (py-spy stops nothing).
    `version`: the interpreter's, found before the stop (interpreter_version when None)."""
    binary = py_spy()
    if binary is None:
        return LanguageStacks(
            LANGUAGE, missing="Python frames missing: py-spy is not installed (pip install py-spy)"
        )
    reader = reader_name()
    command = [binary, "dump", "--pid", str(host_pid), "--json", "--nonblocking"]
    out, error, ms = await run_reader([*command, *(["--locals"] if with_locals else [])])
    version = version or interpreter_version(host_pid)
    if error is not None:
        return LanguageStacks(LANGUAGE, version, missing=missing_line(reader, error), reader=reader)
    try:
        dump = json.loads(out)
    except ValueError:
        return LanguageStacks(
            LANGUAGE, version, missing=missing_line(reader, "unreadable output"), reader=reader
        )
    return stacks_from_dump(dump, namespace_lwps(host_pid), version, reader, ms)


CORE_READER = "cntr_tui.languages.python_core_process"


@functools.cache
def core_reader_name() -> str:
    try:
        return f"pystack {metadata.version('pystack')}"
    except metadata.PackageNotFoundError:
        return "pystack"


async def read_python_core(
    sysroot: str, core: str, executable: str, with_locals: bool = False
) -> LanguageStacks:
    """The Python stacks in a kept core: pystack, chrooted into the kept sysroot where
    the core's own paths hold the kept files (python_core_process.py). `core` and
    `executable` are paths inside `sysroot`. py-spy cannot open such a core: it looks
    for the mapped files at the host's paths ("Failed to get binary from coredump")."""
    reader = core_reader_name()
    argv = [sys.executable, "-m", CORE_READER, sysroot, core, executable]
    out, error, ms = await run_reader(
        [*argv, *(["--locals"] if with_locals else [])], CORE_READ_TIMEOUT
    )
    if error is not None:
        return LanguageStacks(LANGUAGE, missing=missing_line(reader, error), reader=reader)
    dump = json.loads(out)
    version = next((t.get("python_version") for t in dump if t.get("python_version")), None)
    return stacks_from_dump(dump, {}, version, reader, ms)
