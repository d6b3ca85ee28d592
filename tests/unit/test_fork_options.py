"""ForkOptions: gdb's follow-fork-mode and detach-on-fork as `gdb_settings` gives them."""

from __future__ import annotations

import pytest

from cntr_tui.gdb.placement import Placement
from cntr_tui.gdb.settings import ForkOptions, gdb_settings
from cntr_tui.settings import Settings

NO_CACHE = Settings(gdb_index_cache="off")


def test_gdbs_defaults_add_no_setting() -> None:
    assert ForkOptions().pairs() == []
    plain = gdb_settings(Placement(), settings=NO_CACHE)
    assert gdb_settings(Placement(), settings=NO_CACHE, forks=ForkOptions()) == plain


def test_follow_the_child_and_keep_both() -> None:
    pairs = gdb_settings(Placement(), settings=NO_CACHE, forks=ForkOptions("child", False))
    assert pairs[-2:] == [("follow-fork-mode", "child"), ("detach-on-fork", "off")]
    assert ForkOptions("parent", False).pairs() == [
        ("follow-fork-mode", "parent"),
        ("detach-on-fork", "off"),
    ]


def test_toggled_swaps_the_mode_and_keeps_detach() -> None:
    assert ForkOptions().toggled() == ForkOptions("child")
    assert ForkOptions("child", False).toggled() == ForkOptions("parent", False)


def test_a_mode_gdb_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="parent or child"):
        ForkOptions("sideways")
