"""`cntr-tui doctor [CONTAINER]`: the pre-flight checks, one line each, or `--json`.

The host checks always come first. A CONTAINER the look-up cannot give (stopped,
created, not found, or not visible without privileges) is one more `fail` line, and
a word that names nothing is also the look-up's one line on stderr. The exit status
is 1 when any check failed, 0 otherwise (warnings included).
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from cntr_tui.errors import error_line, warn_on_stderr
from cntr_tui.preflight import failed, host_checks, is_privileged, target_checks
from cntr_tui.preflight.targets import look_up


def run_doctor(
    types: tuple[str, ...] | None,
    as_json: bool,
    word: str | None = None,
    out: TextIO = sys.stdout,
) -> int:
    checks = host_checks()
    privileged = is_privileged(checks)
    error = None
    if word is not None:
        found = look_up(word, types, privileged)
        for warning in found.warnings:
            warn_on_stderr(warning)
        checks += found.checks
        if found.container is not None:
            checks += target_checks(found.container, privileged)
        error = found.error
    if as_json:
        json.dump([check.as_json() for check in checks], out, indent=2)
        out.write("\n")
    else:
        out.write("".join(check.line() + "\n" for check in checks))
    if error is not None:
        out.flush()
        print(error_line(error), file=sys.stderr)
    return 1 if failed(checks) else 0
