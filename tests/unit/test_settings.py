"""The settings record: every environment variable of ours is in it, documented in the
README, and read nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cntr_tui.settings import DARK_THEME, GDB_INDEX_CACHE_DEFAULT, VARIABLES, Settings

REPO = Path(__file__).resolve().parents[2]
# other programs' variables, passed on or honoured as those programs do
OTHERS = {"TERM", "PATH", "COLUMNS", "CONTAINERS_STORAGE_CONF"}
READ = re.compile(r"""(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z_]+)["']""")


def test_defaults_and_values_from_an_environment() -> None:
    defaults = Settings.from_environment({"HOME": "/home/someone"})
    assert defaults.theme == DARK_THEME
    assert defaults.docker_host is None
    assert defaults.gdb_index_cache == GDB_INDEX_CACHE_DEFAULT
    assert (defaults.gdb_trace, defaults.fs_profile, defaults.fs_counts) == (None, None, None)
    chosen = Settings.from_environment(
        {
            "CNTR_TUI_THEME": "textual-light",
            "XDG_CONFIG_HOME": "/etc/xdg-here",
            "DOCKER_HOST": "unix:///run/other.sock",
            "CNTR_TUI_GDB_INDEX_CACHE": "",  # set but empty: no cache, as before
            "CNTR_TUI_GDB_TRACE": "/tmp/trace",
        }
    )
    assert chosen.theme == "textual-light"
    assert chosen.keymap_file == "/etc/xdg-here/cntr-tui/keymap.toml"
    assert chosen.docker_host == "unix:///run/other.sock"
    assert chosen.gdb_index_cache == ""
    assert chosen.gdb_trace == "/tmp/trace"


def test_every_variable_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [variable.name for variable in VARIABLES if f"`{variable.name}`" not in readme]
    assert not missing, missing


def test_no_module_reads_a_variable_of_ours_past_the_settings() -> None:
    ours = {variable.name for variable in VARIABLES}
    stray = {}
    for path in (REPO / "cntr_tui").rglob("*.py"):
        if path.name == "settings.py":
            continue
        for name in READ.findall(path.read_text()):
            if name in ours or name not in OTHERS:
                stray.setdefault(str(path.relative_to(REPO)), []).append(name)
    assert not stray, stray


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(None, 50e-6), ("0", 0.0), ("200", 200e-6), ("-5", 50e-6), ("fast", 50e-6), ("nan", 50e-6)],
)
def test_the_file_servers_spin_is_microseconds_and_may_be_off(
    text: str | None, seconds: float
) -> None:
    environ = {"HOME": "/root"} if text is None else {"HOME": "/root", "CNTR_TUI_FS_SPIN_US": text}
    assert Settings.from_environment(environ).fs_spin == pytest.approx(seconds)
