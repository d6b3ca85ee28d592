"""The Python frames of a kept core: runs as its own process
(`python -m cntr_tui.languages.python_core_process SYSROOT CORE EXECUTABLE [--locals]`).

pystack reads a core by the paths the core itself names (its mapped files), which are
the container's (or, for a chrooted process, the host's under the container's root):
so this process imports pystack, then chroots into the kept sysroot, where each of
those paths holds the kept copy (debug/core_bundle.py), and reads there. CORE and
EXECUTABLE are paths inside SYSROOT. Prints one JSON line, as `dump --json` of py-spy
does for a live process (the fields python.stacks_from_dump reads), or exits 1 with
the reason on stderr. A process of its own: the chroot is process-wide, and a fault in
pystack's C++ extension ends this process, not the caller. It joins no namespace and
imports pystack and the standard library only.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def thread_json(thread: Any, with_locals: bool) -> dict[str, Any]:
    frames = []
    for frame in reversed(list(thread.frames)):  # innermost first, as py-spy lists them
        variables = None
        if with_locals:
            variables = [
                {"name": name, "repr": value, "arg": True}
                for name, value in frame.arguments.items()
            ] + [
                {"name": name, "repr": value, "arg": False} for name, value in frame.locals.items()
            ]
        frames.append(
            {
                "name": frame.code.scope,
                "filename": frame.code.filename,
                "line": frame.code.location.lineno,
                "is_entry": bool(frame.is_entry),
                "locals": variables,
            }
        )
    return {
        "os_thread_id": thread.tid,
        "thread_name": thread.name,
        "owns_gil": bool(thread.holds_the_gil > 0),
        "frames": frames,
        "python_version": ".".join(map(str, thread.python_version or ())) or None,
    }


def main(argv: list[str]) -> int:
    from pystack.engine import NativeReportingMode, get_process_threads_for_core

    sysroot, core, executable = argv[:3]
    with_locals = "--locals" in argv[3:]
    os.chroot(sysroot)
    os.chdir("/")
    try:
        threads = get_process_threads_for_core(
            core, executable, None, native_mode=NativeReportingMode.OFF, locals=with_locals
        )
        dump = [thread_json(thread, with_locals) for thread in threads]
    except Exception as error:  # pystack's engine raises several kinds; each is one line
        lines = str(error).strip().splitlines()
        print(lines[0] if lines else type(error).__name__, file=sys.stderr)
        return 1
    print(json.dumps(dump))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
