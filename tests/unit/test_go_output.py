"""The goroutine helper's console output (recorded from the demo program in plain
namespaces, trimmed to five goroutines) -> Goroutine and Frame records."""

from __future__ import annotations

import pytest

from cntr_tui.gdb.records import Frame
from cntr_tui.languages.go_output import (
    HelperOutputError,
    goroutine_record,
    package_of,
    read_goroutines,
    shown_frame,
)

# `python _cntr_go(None, 64)`: main in a select, the runtime's forcegc helper (its
# gopark inlined), os/signal's goroutine in a system call on LWP 5, the sleeper, the
# spinner running on LWP 7
RECORDED_LIST = (
    "Loading Go Runtime support.\n"
    'cntr-go: [{"id": 1, "state": "waiting", "reason": "select", "lwp": null, "frames": ['
    '{"pc": 4411862, "function": "runtime.gopark", "file": "/usr/lib/go-1.19/src/runtime/'
    'proc.go", "fullname": "/usr/share/go-1.19/src/runtime/proc.go", "line": 364}, {"pc":'
    ' 4474428, "function": "runtime.selectgo", "file": "/usr/lib/go-1.19/src/runtime/sele'
    'ct.go", "fullname": "/usr/share/go-1.19/src/runtime/select.go", "line": 328}, {"pc":'
    ' 4744270, "function": "main.main", "file": "/app/src/goroutines.go", "fullname": "/a'
    'pp/src/goroutines.go", "line": 90}, {"pc": 4410898, "function": "runtime.main", "fil'
    'e": "/usr/lib/go-1.19/src/runtime/proc.go", "fullname": "/usr/share/go-1.19/src/runt'
    'ime/proc.go", "line": 250}, {"pc": 4587905, "function": "runtime.goexit", "file": "/'
    'usr/lib/go-1.19/src/runtime/asm_amd64.s", "fullname": "/usr/share/go-1.19/src/runtim'
    'e/asm_amd64.s", "line": 1594}]}, {"id": 2, "state": "waiting", "reason": "force gc ('
    'idle)", "lwp": null, "frames": [{"pc": 4411862, "function": "runtime.gopark", "file"'
    ': "/usr/lib/go-1.19/src/runtime/proc.go", "fullname": "/usr/share/go-1.19/src/runtim'
    'e/proc.go", "line": 364}, {"pc": 4411501, "function": "runtime.goparkunlock", "file"'
    ': "/usr/lib/go-1.19/src/runtime/proc.go", "fullname": "/usr/share/go-1.19/src/runtim'
    'e/proc.go", "line": 369}, {"pc": 4411501, "function": "runtime.forcegchelper", "file'
    '": "/usr/lib/go-1.19/src/runtime/proc.go", "fullname": "/usr/share/go-1.19/src/runti'
    'me/proc.go", "line": null}, {"pc": 4587905, "function": "runtime.goexit", "file": "/'
    'usr/lib/go-1.19/src/runtime/asm_amd64.s", "fullname": "/usr/share/go-1.19/src/runtim'
    'e/asm_amd64.s", "line": 1594}]}, {"id": 7, "state": "syscall", "reason": null, "lwp"'
    ': 5, "frames": [{"pc": 4595779, "function": "runtime.futex", "file": "/usr/lib/go-1.'
    '19/src/runtime/sys_linux_amd64.s", "fullname": "/usr/share/go-1.19/src/runtime/sys_l'
    'inux_amd64.s", "line": 560}, {"pc": 4385558, "function": "runtime.futexsleep", "file'
    '": "/usr/lib/go-1.19/src/runtime/os_linux.go", "fullname": "/usr/share/go-1.19/src/r'
    'untime/os_linux.go", "line": 69}, {"pc": 4239013, "function": "runtime.notetsleep_in'
    'ternal", "file": "/usr/lib/go-1.19/src/runtime/lock_futex.go", "fullname": "/usr/sha'
    're/go-1.19/src/runtime/lock_futex.go", "line": 183}, {"pc": 4239301, "function": "ru'
    'ntime.notetsleepg", "file": "/usr/lib/go-1.19/src/runtime/lock_futex.go", "fullname"'
    ': "/usr/share/go-1.19/src/runtime/lock_futex.go", "line": 237}, {"pc": 4574735, "fun'
    'ction": "os/signal.signal_recv", "file": "/usr/lib/go-1.19/src/runtime/sigqueue.go",'
    ' "fullname": "/usr/share/go-1.19/src/runtime/sigqueue.go", "line": 152}, {"pc": 4742'
    '233, "function": "os/signal.loop", "file": "/usr/lib/go-1.19/src/os/signal/signal_un'
    'ix.go", "fullname": "/usr/share/go-1.19/src/os/signal/signal_unix.go", "line": 23}, '
    '{"pc": 4587905, "function": "runtime.goexit", "file": "/usr/lib/go-1.19/src/runtime/'
    'asm_amd64.s", "fullname": "/usr/share/go-1.19/src/runtime/asm_amd64.s", "line": 1594'
    '}]}, {"id": 9, "state": "waiting", "reason": "sleep", "lwp": null, "frames": [{"pc":'
    ' 4411862, "function": "runtime.gopark", "file": "/usr/lib/go-1.19/src/runtime/proc.g'
    'o", "fullname": "/usr/share/go-1.19/src/runtime/proc.go", "line": 364}, {"pc": 45757'
    '65, "function": "time.Sleep", "file": "/usr/lib/go-1.19/src/runtime/time.go", "fulln'
    'ame": "/usr/share/go-1.19/src/runtime/time.go", "line": 195}, {"pc": 4742644, "funct'
    'ion": "main.sleeper", "file": "/app/src/goroutines.go", "fullname": "/app/src/gorout'
    'ines.go", "line": 40}, {"pc": 4744454, "function": "main.main.func2", "file": "/app/'
    'src/goroutines.go", "fullname": "/app/src/goroutines.go", "line": 76}, {"pc": 458790'
    '5, "function": "runtime.goexit", "file": "/usr/lib/go-1.19/src/runtime/asm_amd64.s",'
    ' "fullname": "/usr/share/go-1.19/src/runtime/asm_amd64.s", "line": 1594}]}, {"id": 1'
    '0, "state": "running", "reason": null, "lwp": 7, "frames": [{"pc": 4742742, "functio'
    'n": "main.spinner", "file": "/app/src/goroutines.go", "fullname": "/app/src/goroutin'
    'es.go", "line": 48}, {"pc": 4744358, "function": "main.main.func3", "file": "/app/sr'
    'c/goroutines.go", "fullname": "/app/src/goroutines.go", "line": 77}, {"pc": 4587905,'
    ' "function": "runtime.goexit", "file": "/usr/lib/go-1.19/src/runtime/asm_amd64.s", "'
    'fullname": "/usr/share/go-1.19/src/runtime/asm_amd64.s", "line": 1594}]}]'
    "\n"
)
# `python _cntr_go(9, 512)`: the sleeper's stack
RECORDED_STACK = (
    'cntr-go: [{"id": 9, "state": "waiting", "reason": "sleep", "lwp": null, "frames": [{'
    '"pc": 4411862, "function": "runtime.gopark", "file": "/usr/lib/go-1.19/src/runtime/p'
    'roc.go", "fullname": "/usr/share/go-1.19/src/runtime/proc.go", "line": 364}, {"pc": '
    '4575765, "function": "time.Sleep", "file": "/usr/lib/go-1.19/src/runtime/time.go", "'
    'fullname": "/usr/share/go-1.19/src/runtime/time.go", "line": 195}, {"pc": 4742644, "'
    'function": "main.sleeper", "file": "/app/src/goroutines.go", "fullname": "/app/src/g'
    'oroutines.go", "line": 40}, {"pc": 4744454, "function": "main.main.func2", "file": "'
    '/app/src/goroutines.go", "fullname": "/app/src/goroutines.go", "line": 76}, {"pc": 4'
    '587905, "function": "runtime.goexit", "file": "/usr/lib/go-1.19/src/runtime/asm_amd6'
    '4.s", "fullname": "/usr/share/go-1.19/src/runtime/asm_amd64.s", "line": 1594}]}]'
    "\n"
)


def test_goroutines_read_with_state_reason_thread_and_the_function_they_are_known_by():
    records = [goroutine_record(read) for read in read_goroutines(RECORDED_LIST)]
    assert [(g.id, g.state, g.wait_reason, g.function, g.line, g.lwp) for g in records] == [
        (1, "waiting", "select", "main.main", 90, None),
        (2, "waiting", "force gc (idle)", "runtime.forcegchelper", None, None),
        (7, "syscall", None, "os/signal.signal_recv", 152, 5),
        (9, "waiting", "sleep", "main.sleeper", 40, None),
        (10, "running", None, "main.spinner", 48, 7),
    ]
    assert records[0].file == "/app/src/goroutines.go"
    assert records[2].file == "/usr/share/go-1.19/src/runtime/sigqueue.go"  # the host's


def test_a_stack_keeps_every_frame_innermost_first_with_addresses():
    (sleeper,) = read_goroutines(RECORDED_STACK)
    assert [f.function for f in sleeper.frames] == [
        "runtime.gopark",
        "time.Sleep",
        "main.sleeper",
        "main.main.func2",
        "runtime.goexit",
    ]
    assert [f.level for f in sleeper.frames] == [0, 1, 2, 3, 4]
    assert sleeper.frames[2] == Frame(
        level=2,
        address=4742644,
        function="main.sleeper",
        file="/app/src/goroutines.go",
        fullname="/app/src/goroutines.go",
        line=40,
    )


def frames(*functions: str) -> tuple[Frame, ...]:
    return tuple(Frame(level, function=name) for level, name in enumerate(functions))


@pytest.mark.parametrize(
    ("stack", "shown"),
    [
        (frames("runtime.gopark", "time.Sleep", "main.sleeper", "runtime.goexit"), 2),
        (frames("runtime.gopark", "github.com/a/b.(*T).Wait", "main.main"), 1),
        (frames("runtime.futex", "os/signal.signal_recv", "os/signal.loop"), 1),
        (frames("runtime.gopark", "runtime.bgsweep", "runtime.goexit"), 1),
        (frames("runtime.gopark"), 0),
    ],
)
def test_the_frame_a_goroutine_is_known_by(stack: tuple[Frame, ...], shown: int):
    assert shown_frame(stack) == stack[shown]


def test_package_of_a_go_function():
    assert package_of("main.main.func2") == "main"
    assert package_of("os/signal.signal_recv") == "os/signal"
    assert package_of("github.com/a/b.(*T).M") == "github.com/a/b"


@pytest.mark.parametrize(
    "console",
    [
        "",
        "Python Exception <class 'gdb.error'>: No symbol \"runtime.allgs\" in current context.\n",
        'cntr-go: [{"id": 1, "frames"\n',  # cut short
        'cntr-go: {"id": 1}\n',
        'cntr-go: [{"state": "waiting"}]\n',
    ],
)
def test_output_that_is_not_the_helper_listing_is_an_error(console: str):
    with pytest.raises(HelperOutputError):
        read_goroutines(console)
