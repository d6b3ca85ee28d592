"""`cntr-tui doctor [CONTAINER]`: the pre-flight checks, one line each, or `--json`.

The exit status is 1 when any check failed, 0 otherwise (warnings included). A word
that names no container is the look-up's one-line error, as for attach.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from cntr_tui.attach.lookup import resolve
from cntr_tui.preflight import failed, run_checks


def run_doctor(
    types: tuple[str, ...] | None,
    as_json: bool,
    word: str | None = None,
    out: TextIO = sys.stdout,
) -> int:
    # paused is a finding here (the state and freezer checks), not a refusal
    container = resolve(word, types, allow_paused=True) if word is not None else None
    checks = run_checks(container)
    if as_json:
        json.dump([check.as_json() for check in checks], out, indent=2)
        out.write("\n")
    else:
        out.write("".join(check.line() + "\n" for check in checks))
    return 1 if failed(checks) else 0
