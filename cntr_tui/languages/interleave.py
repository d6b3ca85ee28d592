"""Python frames placed among the native frames that run them.

CPython runs a chain of Python frames in one native call of its eval loop
(`_PyEval_EvalFrameDefault`); the outermost frame of each chain is marked `entry`. So,
both stacks innermost first, the k-th eval-loop frame of the native stack is replaced by
the k-th chain of Python frames, and the native frames between them (a C extension's
call, `time.sleep`'s `select`, the thread's start) stay where they are. This is
pystack's and py-spy's own merge, done on gdb's frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from cntr_tui.languages.records import LanguageFrame, LanguageThread

N = TypeVar("N")
INTERPRETER_FILE = re.compile(r"^(python\d?(\.\d+)?[a-z]*|libpython\d+\.\d+[a-z]*\.so(\..*)?)$")
EVAL_LOOP_FUNCTIONS = frozenset({"_PyEval_EvalFrameDefault", "PyEval_EvalFrameEx"})
# the interpreter's own plumbing between an eval loop and the C function it calls:
# hidden where the Python frames are shown (pystack's list, pystack.types.frame_type)
INTERPRETER_PREFIXES = ("_Py", "PyEval", "PyObject_Call", "PyObject_Vectorcall", "cfunction_")


def is_eval_loop(function: str | None) -> bool:
    return function is not None and function.split("(")[0].strip() in EVAL_LOOP_FUNCTIONS


def is_interpreter_plumbing(function: str | None, library: str | None = None) -> bool:
    """The interpreter's own frames: named like its internals, or unnamed (a static
    function of a stripped build) inside the interpreter's executable or libpython."""
    if function in (None, "??"):
        return library is not None and is_interpreter_file(library)
    assert function is not None
    return function.startswith(INTERPRETER_PREFIXES) or "vectorcall" in function.lower()


def is_interpreter_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return bool(INTERPRETER_FILE.match(name))


def chains(frames: Sequence[LanguageFrame]) -> list[list[LanguageFrame]]:
    """Innermost first: each chain ends with its entry frame. Without any entry mark
    (an interpreter that runs each frame in its own eval call) each frame is one."""
    if not any(frame.entry for frame in frames):
        return [[frame] for frame in frames]
    found: list[list[LanguageFrame]] = []
    current: list[LanguageFrame] = []
    for frame in frames:
        current.append(frame)
        if frame.entry:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def interleave(
    native: Sequence[N], thread: LanguageThread | None, function_of: Callable[[N], str | None]
) -> list[N | LanguageFrame]:
    """Both stacks as one, innermost first. Chains left over when gdb unwound fewer
    eval loops than Python has (a truncated stack) go outermost, after the native ones."""
    if thread is None or not thread.frames:
        return list(native)
    waiting = iter(chains(thread.frames))
    merged: list[N | LanguageFrame] = []
    for frame in native:
        if is_eval_loop(function_of(frame)):
            chain = next(waiting, None)
            if chain is not None:
                merged.extend(chain)
                continue
        merged.append(frame)
    for chain in waiting:
        merged.extend(chain)
    return merged


F = TypeVar("F")


def plumbing_counted(frames: Sequence[F], is_plumbing: Callable[[F], bool]) -> list[F | int]:
    """The frames a reader wants where language frames stand among native ones: each
    run of the interpreter's plumbing becomes its count."""
    shown: list[F | int] = []
    for frame in frames:
        if not is_plumbing(frame):
            shown.append(frame)
        elif shown and isinstance(shown[-1], int):
            shown[-1] += 1
        else:
            shown.append(1)
    return shown
