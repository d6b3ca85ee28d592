"""The record a log source yields, one line of a container's own log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogLine:
    """One line of a container's own log. `stream`: stdout, stderr, or the source's own
    name (console, journal, "stdout+stderr" for a file holding both, "log" for a CRI
    line that could not be parsed, "error" for a source that failed while reading: it
    comes just before the end); `time`: when the source stamped it (seconds since the
    epoch), None when it does not."""

    text: str
    stream: str
    time: float | None = None
