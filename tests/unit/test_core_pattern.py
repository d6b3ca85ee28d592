"""Which file names a core_pattern makes, and where it puts them."""

from __future__ import annotations

from cntr_tui.debug.kernel_cores import CorePattern


def test_a_plain_name_with_and_without_core_uses_pid() -> None:
    assert CorePattern("core", uses_pid=False).names("core")
    assert not CorePattern("core", uses_pid=False).names("core.123")
    assert CorePattern("core", uses_pid=True).names("core.123")
    assert not CorePattern("core", uses_pid=True).names("core.abc")
    assert not CorePattern("core", uses_pid=True).names("corefile")
    assert CorePattern("core", uses_pid=False).folder is None


def test_specifiers_match_any_text_and_a_percent_itself() -> None:
    pattern = CorePattern("/var/crash/core.%e.%p.%t", uses_pid=True)
    assert pattern.folder == "/var/crash"
    assert pattern.names("core.threads.17.1764770000")
    assert not pattern.names("other.threads.17")
    assert CorePattern("core%%%p", uses_pid=False).names("core%17")
    assert CorePattern("core*", uses_pid=False).names("core*")
    assert not CorePattern("core*", uses_pid=False).names("core.1")


def test_a_pipe_and_a_folder_with_specifiers() -> None:
    assert CorePattern("|/lib/systemd/systemd-coredump %P %u", uses_pid=False).is_pipe
    assert CorePattern("/cores/%h/core", uses_pid=False).folder is None
    assert CorePattern("/core.%p", uses_pid=False).folder == "/"
