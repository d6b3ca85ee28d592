"""The threads pane numbers threads as gdb does (issue 14: the numbers `info threads`,
the status line and "Thread N hit Breakpoint" use), the LWP beside the name."""

from __future__ import annotations

from cntr_tui.gdb.records import Thread
from cntr_tui.widgets.threads import thread_label


def test_a_thread_is_labelled_by_gdbs_number_then_its_lwp() -> None:
    thread = Thread(2, "Thread 1.7", 7, "worker-0", "stopped")
    label = thread_label(thread, selected=True).plain
    assert label.split()[:4] == ["→", "2", "worker-0", "LWP"]
    assert "LWP 7" in label and " 7 " not in label.split("LWP")[0]
    unnamed = thread_label(Thread(11, "process 9", None, None, "running"), selected=False)
    assert unnamed.plain.split()[:4] == ["11", "-", "LWP", "?"]
