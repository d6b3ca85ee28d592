"""`RUNTIME:NAME` words (cntr_tui/attach/runtime_prefix.py)."""

from __future__ import annotations

import pytest

from cntr_tui.attach.container import RUNTIMES
from cntr_tui.attach.runtime_prefix import (
    PrefixedWord,
    parse_runtime_prefix,
    split_runtime_prefix,
)
from cntr_tui.errors import UserError


@pytest.mark.parametrize(
    ("word", "runtime", "name"),
    [
        ("lxd:web", "lxd", "web"),
        ("docker:cntr-test-docker-1", "docker", "cntr-test-docker-1"),
        ("lxc:db", "lxc", "db"),
        ("podman:api", "podman", "api"),
        ("nspawn:build", "nspawn", "build"),
        ("containerd:3f4e5d6c7b8a", "containerd", "3f4e5d6c7b8a"),
        ("process:threads", "process", "threads"),
        (" lxd:web ", "lxd", "web"),
        ("lxd:proj/web", "lxd", "proj/web"),  # LXD's id PROJECT/NAME
        ("lxd:a:b", "lxd", "a:b"),  # the first colon separates
    ],
)
def test_prefixed_words(word, runtime, name):
    assert parse_runtime_prefix(word) == PrefixedWord(runtime, name)


def test_every_runtime_is_a_prefix():
    assert [parse_runtime_prefix(f"{r}:x").runtime for r in RUNTIMES] == list(RUNTIMES)


@pytest.mark.parametrize(
    "word",
    ["web", "1234", ":8080", "10.0.0.1:80", "ns/pod:c", "Docker:web", "my-app:1", ":web"],
)
def test_words_without_a_prefix_are_left_alone(word):
    assert parse_runtime_prefix(word) is None
    assert split_runtime_prefix(word, ["docker"]) == (word, ["docker"])


def test_an_unknown_runtime_is_one_line_naming_the_runtimes():
    with pytest.raises(UserError) as raised:
        parse_runtime_prefix("lxe:web")
    message = str(raised.value)
    assert message.startswith("unknown runtime 'lxe' in 'lxe:web': write RUNTIME:NAME with one of")
    assert all(runtime in message for runtime in RUNTIMES)
    assert "\n" not in message


def test_letters_naming_no_runtime_are_an_error_even_in_a_command_line_word():
    with pytest.raises(UserError, match=r"unknown runtime 'localhost'.*give the container's PID"):
        split_runtime_prefix("localhost:8080", None)


def test_a_prefix_without_a_name_is_an_error():
    with pytest.raises(UserError, match=r"^'lxd:' names no container: write lxd:NAME$"):
        parse_runtime_prefix("lxd:")


def test_split_restricts_the_runtimes():
    assert split_runtime_prefix("lxd:web", None) == ("web", ["lxd"])
    assert split_runtime_prefix("lxd:web", ["lxd", "lxc"]) == ("web", ["lxd"])
    assert split_runtime_prefix("web", None) == ("web", None)


def test_a_prefix_that_the_type_option_excludes_is_an_error():
    with pytest.raises(UserError, match=r"names a lxd container, but -t allows only docker"):
        split_runtime_prefix("lxd:web", ["docker"])
