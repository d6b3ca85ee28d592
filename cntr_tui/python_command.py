"""The command line that runs `main()` of one of this package's modules in a lean Python.

The attach helper and the interrupt filter start often and need only the standard
library and this package: without `site` (-S) Python starts in a third of the time.
"""

from __future__ import annotations

import os
import sys

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def module_main_command(module: str, *, isolated: bool = False) -> tuple[str, ...]:
    """`python [-I] -S -c "...; from MODULE import main; main()"`; arguments may follow.
    `isolated` also ignores PYTHON* variables and the user's site folder."""
    flags = ("-I", "-S") if isolated else ("-S",)
    code = f"import sys; sys.path.insert(0, {PACKAGE_PARENT!r}); from {module} import main; main()"
    return (sys.executable, *flags, "-c", code)
