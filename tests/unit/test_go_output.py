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
# goparkunlock inlined), os/signal's goroutine in a system call on LWP 4, the sleeper,
# the spinner running on LWP 7
RECORDED_LIST = (
    "Loading Go Runtime support.\n"
    'cntr-go: {"places": [[4411862, "runtime.gopark", "/usr/lib/go-1.19/src/runtime/proc.'
    'go", "/usr/share/go-1.19/src/runtime/proc.go", 364], [4474428, "runtime.selectgo", "'
    '/usr/lib/go-1.19/src/runtime/select.go", "/usr/share/go-1.19/src/runtime/select.go",'
    ' 328], [4744270, "main.main", "/app/src/goroutines.go", "/app/src/goroutines.go", 90'
    '], [4410898, "runtime.main", "/usr/lib/go-1.19/src/runtime/proc.go", "/usr/share/go-'
    '1.19/src/runtime/proc.go", 250], [4587905, "runtime.goexit", "/usr/lib/go-1.19/src/r'
    'untime/asm_amd64.s", "/usr/share/go-1.19/src/runtime/asm_amd64.s", 1594], [4411501, '
    '"runtime.goparkunlock", "/usr/lib/go-1.19/src/runtime/proc.go", "/usr/share/go-1.19/'
    'src/runtime/proc.go", 369], [4411501, "runtime.forcegchelper", "/usr/lib/go-1.19/src'
    '/runtime/proc.go", "/usr/share/go-1.19/src/runtime/proc.go", null], [4595779, "runti'
    'me.futex", "/usr/lib/go-1.19/src/runtime/sys_linux_amd64.s", "/usr/share/go-1.19/src'
    '/runtime/sys_linux_amd64.s", 560], [4385558, "runtime.futexsleep", "/usr/lib/go-1.19'
    '/src/runtime/os_linux.go", "/usr/share/go-1.19/src/runtime/os_linux.go", 69], [42390'
    '13, "runtime.notetsleep_internal", "/usr/lib/go-1.19/src/runtime/lock_futex.go", "/u'
    'sr/share/go-1.19/src/runtime/lock_futex.go", 183], [4239301, "runtime.notetsleepg", '
    '"/usr/lib/go-1.19/src/runtime/lock_futex.go", "/usr/share/go-1.19/src/runtime/lock_f'
    'utex.go", 237], [4574735, "os/signal.signal_recv", "/usr/lib/go-1.19/src/runtime/sig'
    'queue.go", "/usr/share/go-1.19/src/runtime/sigqueue.go", 152], [4742233, "os/signal.'
    'loop", "/usr/lib/go-1.19/src/os/signal/signal_unix.go", "/usr/share/go-1.19/src/os/s'
    'ignal/signal_unix.go", 23], [4575765, "time.Sleep", "/usr/lib/go-1.19/src/runtime/ti'
    'me.go", "/usr/share/go-1.19/src/runtime/time.go", 195], [4742644, "main.sleeper", "/'
    'app/src/goroutines.go", "/app/src/goroutines.go", 40], [4744454, "main.main.func2", '
    '"/app/src/goroutines.go", "/app/src/goroutines.go", 76], [4742742, "main.spinner", "'
    '/app/src/goroutines.go", "/app/src/goroutines.go", 48], [4744358, "main.main.func3",'
    ' "/app/src/goroutines.go", "/app/src/goroutines.go", 77]], "goroutines": [[1, "waiti'
    'ng", "select", null, [0, 1, 2, 3, 4]], [2, "waiting", "force gc (idle)", null, [0, 5'
    ', 6, 4]], [19, "syscall", null, 4, [7, 8, 9, 10, 11, 12, 4]], [21, "waiting", "sleep'
    '", null, [0, 13, 14, 15, 4]], [22, "running", null, 7, [16, 17, 4]]]}'
    "\n"
)
# `python _cntr_go(21, 512)`: the sleeper's stack
RECORDED_STACK = (
    'cntr-go: {"places": [[4411862, "runtime.gopark", "/usr/lib/go-1.19/src/runtime/proc.'
    'go", "/usr/share/go-1.19/src/runtime/proc.go", 364], [4575765, "time.Sleep", "/usr/l'
    'ib/go-1.19/src/runtime/time.go", "/usr/share/go-1.19/src/runtime/time.go", 195], [47'
    '42644, "main.sleeper", "/app/src/goroutines.go", "/app/src/goroutines.go", 40], [474'
    '4454, "main.main.func2", "/app/src/goroutines.go", "/app/src/goroutines.go", 76], [4'
    '587905, "runtime.goexit", "/usr/lib/go-1.19/src/runtime/asm_amd64.s", "/usr/share/go'
    '-1.19/src/runtime/asm_amd64.s", 1594]], "goroutines": [[21, "waiting", "sleep", null'
    ", [0, 1, 2, 3, 4]]]}"
    "\n"
)


def test_goroutines_read_with_state_reason_thread_and_the_function_they_are_known_by():
    records = [goroutine_record(read) for read in read_goroutines(RECORDED_LIST)]
    assert [(g.id, g.state, g.wait_reason, g.function, g.line, g.lwp) for g in records] == [
        (1, "waiting", "select", "main.main", 90, None),
        (2, "waiting", "force gc (idle)", "runtime.forcegchelper", None, None),
        (19, "syscall", None, "os/signal.signal_recv", 152, 4),
        (21, "waiting", "sleep", "main.sleeper", 40, None),
        (22, "running", None, "main.spinner", 48, 7),
    ]
    assert records[0].file == "/app/src/goroutines.go"
    assert records[2].file == "/usr/share/go-1.19/src/runtime/sigqueue.go"  # the host's


def test_a_stack_keeps_every_frame_innermost_first_with_addresses():
    (sleeper,) = read_goroutines(RECORDED_STACK)
    assert (sleeper.id, sleeper.state, sleeper.wait_reason) == (21, "waiting", "sleep")
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
        'cntr-go: {"places": [], "goroutines": [[1, "wai\n',  # cut short
        'cntr-go: [[1, "waiting", null, null, []]]\n',  # not an object
        'cntr-go: {"goroutines": []}\n',
        'cntr-go: {"places": [], "goroutines": [["1", "waiting", null, null, []]]}\n',
        'cntr-go: {"places": [], "goroutines": [[1, "waiting", null, null, [0]]]}\n',
        'cntr-go: {"places": [[1, "main.main"]], "goroutines": []}\n',
    ],
)
def test_output_that_is_not_the_helper_listing_is_an_error(console: str):
    with pytest.raises(HelperOutputError):
        read_goroutines(console)
