"""Python frames among gdb's native ones (cntr_tui/languages/interleave.py), on the
stacks a real snapshot of the demo service read (cntr_tui/demo/programs/service.py):
its listener thread, blocked in recv under two chains of Python frames."""

from __future__ import annotations

from dataclasses import dataclass

from cntr_tui.languages.interleave import chains, interleave, is_interpreter_plumbing
from cntr_tui.languages.python import missing_line, stacks_from_dump
from cntr_tui.languages.records import LanguageFrame, LanguageThread

PYTHON = "/var/lib/cntr/opt/svc/bin/python3"
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


@dataclass(frozen=True)
class Native:
    function: str | None
    library: str


# gdb's frames of the listener thread, innermost first (levels 0-16)
LISTENER_NATIVE = [
    Native("__libc_recv", LIBC),
    Native("__libc_recv", LIBC),
    Native(None, PYTHON),
    Native(None, PYTHON),
    Native(None, PYTHON),
    Native("_PyObject_MakeTpCall", PYTHON),
    Native("_PyEval_EvalFrameDefault", PYTHON),  # runs read_request and serve_forever
    Native("_PyFunction_Vectorcall", PYTHON),
    Native("_PyEval_EvalFrameDefault", PYTHON),  # runs run, _bootstrap_inner, _bootstrap
    Native(None, PYTHON),
    Native(None, PYTHON),
    Native(None, PYTHON),
    Native(None, PYTHON),
    Native("start_thread", LIBC),
    Native("clone3", LIBC),
]

# py-spy's `dump --json --nonblocking` of it, innermost first (locals cut short)
DUMP = [
    {
        "pid": 19310,
        "thread_id": 140017544459968,
        "thread_name": "listener",
        "os_thread_id": 5,
        "active": True,
        "owns_gil": False,
        "frames": [
            {
                "name": name,
                "filename": path,
                "module": None,
                "short_filename": path.rsplit("/", 1)[-1],
                "line": line,
                "locals": locals_,
                "is_entry": entry,
                "is_shim_entry": False,
            }
            for name, path, line, entry, locals_ in [
                (
                    "read_request",
                    "/app/service.py",
                    55,
                    False,
                    [{"name": "connection", "addr": 1, "arg": True, "repr": "<socket at 0x7f1>"}],
                ),
                ("serve_forever", "/app/service.py", 62, True, None),
                ("Thread.run", "/opt/svc/lib/python3.11/threading.py", 975, False, None),
                (
                    "Thread._bootstrap_inner",
                    "/opt/svc/lib/python3.11/threading.py",
                    1038,
                    False,
                    None,
                ),
                ("Thread._bootstrap", "/opt/svc/lib/python3.11/threading.py", 995, True, None),
            ]
        ],
    }
]


def names(frames: list[Native | LanguageFrame]) -> list[str | None]:
    return [
        f"py:{frame.function}" if isinstance(frame, LanguageFrame) else frame.function
        for frame in frames
    ]


def listener() -> LanguageThread:
    stacks = stacks_from_dump(DUMP, {5: 4242}, "3.11", "py-spy 0.4.3", 9.5)
    assert stacks.language == "python" and stacks.version == "3.11" and stacks.missing is None
    thread = stacks.thread(5)
    assert thread is not None and thread.host_tid == 4242 and thread.name == "listener"
    (connection,) = thread.frames[0].locals or ()
    assert (connection.name, connection.value, connection.argument) == (
        "connection",
        "<socket at 0x7f1>",
        True,
    )
    assert thread.frames[1].locals is None
    return thread


def test_each_eval_loop_frame_gives_way_to_the_python_chain_it_runs() -> None:
    merged = interleave(LISTENER_NATIVE, listener(), lambda frame: frame.function)
    assert names(merged) == [
        "__libc_recv",
        "__libc_recv",
        None,
        None,
        None,
        "_PyObject_MakeTpCall",
        "py:read_request",
        "py:serve_forever",
        "_PyFunction_Vectorcall",
        "py:Thread.run",
        "py:Thread._bootstrap_inner",
        "py:Thread._bootstrap",
        None,
        None,
        None,
        None,
        "start_thread",
        "clone3",
    ]


def test_chains_end_at_their_entry_frame() -> None:
    found = chains(listener().frames)
    assert [[f.function for f in chain] for chain in found] == [
        ["read_request", "serve_forever"],
        ["Thread.run", "Thread._bootstrap_inner", "Thread._bootstrap"],
    ]
    # an interpreter that marks no entry runs each frame in an eval call of its own
    plain = tuple(LanguageFrame(f.function, f.file, f.line) for f in listener().frames)
    assert len(chains(plain)) == 5


def test_python_frames_left_over_go_outermost() -> None:
    """gdb unwound one eval loop only (a truncated stack): nothing is lost or reordered."""
    truncated = LISTENER_NATIVE[:7]
    merged = interleave(truncated, listener(), lambda frame: frame.function)
    assert names(merged)[-5:] == [
        "py:read_request",
        "py:serve_forever",
        "py:Thread.run",
        "py:Thread._bootstrap_inner",
        "py:Thread._bootstrap",
    ]


def test_a_thread_without_python_frames_keeps_its_native_stack() -> None:
    assert interleave(LISTENER_NATIVE, None, lambda f: f.function) == LISTENER_NATIVE


def test_plumbing_is_the_interpreters_own_frames_only() -> None:
    assert is_interpreter_plumbing("_PyFunction_Vectorcall", PYTHON)
    assert is_interpreter_plumbing(None, PYTHON)
    assert is_interpreter_plumbing("??", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0")
    assert not is_interpreter_plumbing(None, "/app/threads")
    assert not is_interpreter_plumbing("__libc_recv", LIBC)
    assert not is_interpreter_plumbing("start_thread", LIBC)


def test_a_failed_read_is_one_line_naming_the_reader_and_the_fix() -> None:
    missing = missing_line("py-spy 0.4.3", "Unsupported version of Python: 3.99.0")
    assert "\n" not in missing and missing.startswith("Python frames missing: py-spy 0.4.3: ")
    assert "3.99" in missing and missing.endswith("supports this interpreter's version would")
    other = missing_line("py-spy 0.4.3", "Failed to find python version from target process")
    assert "found no interpreter state" in other
