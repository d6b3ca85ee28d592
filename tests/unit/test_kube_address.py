"""kube/address.py: the kubelet's container ids -> cntr-tui's `-t RUNTIME ID`, and the
command line built on it parsed by cntr-tui's own parser as meant."""

from __future__ import annotations

import pytest

from cntr_tui.cli import build_parser, strip_separator
from cntr_tui.errors import UserError
from cntr_tui.kube.address import ContainerAddress, cntr_tui_command, parse_container_id

CONTAINERD_ID = "3f1c9a0e8b7d46c2a5e1f0d9c8b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9"
DOCKER_ID = "d8e1e33309272b4a4267e15f995ff7b6612532240cb61dc03a118659620226f2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"containerd://{CONTAINERD_ID}", ContainerAddress("containerd", CONTAINERD_ID)),
        (f"docker://{DOCKER_ID}", ContainerAddress("docker", DOCKER_ID)),
    ],
)
def test_runtime_ids(text: str, expected: ContainerAddress) -> None:
    assert parse_container_id(text) == expected
    assert expected.words == ["-t", expected.runtime, expected.id]


def test_cri_o_is_refused_with_the_reason() -> None:
    with pytest.raises(UserError) as error:
        parse_container_id(f"cri-o://{CONTAINERD_ID}")
    assert str(error.value) == (
        f"the container runs under CRI-O (cri-o://{CONTAINERD_ID}); cntr-tui has no CRI-O "
        "runtime yet (it debugs containerd's and docker's)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rkt://1234",
            "unknown container runtime 'rkt' in rkt://1234; cntr-tui knows containerd://, docker://",
        ),
        ("3f1c9a0e", "not a container id of the form RUNTIME://ID: '3f1c9a0e'"),
        ("containerd://", "not a container id of the form RUNTIME://ID: 'containerd://'"),
        ("containerd://a/b", "not a container id of the form RUNTIME://ID: 'containerd://a/b'"),
    ],
)
def test_bad_ids(text: str, message: str) -> None:
    with pytest.raises(UserError) as error:
        parse_container_id(text)
    assert str(error.value) == message


ADDRESS = ContainerAddress("containerd", CONTAINERD_ID)


def parsed(command: list[str]):
    assert command[0] == "cntr-tui"
    return build_parser(command[1]).parse_args(command[1:])


def test_the_default_is_the_tui_on_the_container() -> None:
    command = cntr_tui_command(ADDRESS, [])
    assert command == ["cntr-tui", "ui", "-t", "containerd", CONTAINERD_ID]
    args = parsed(command)
    assert (args.command, args.types, args.container) == ("ui", ("containerd",), CONTAINERD_ID)


def test_a_batch_gdb_keeps_its_options() -> None:
    args = parsed(cntr_tui_command(ADDRESS, ["gdb", "--batch", "-ex", "bt", "-ex", "info threads"]))
    assert (args.command, args.types, args.container) == ("gdb", ("containerd",), CONTAINERD_ID)
    assert args.batch and args.ex == ["bt", "info threads"]


def test_the_container_goes_before_a_command_of_the_commands_own() -> None:
    args = parsed(cntr_tui_command(ADDRESS, ["attach", "--", "sh", "-c", "ls /"]))
    assert args.container == CONTAINERD_ID
    assert strip_separator(args.cmd) == ["sh", "-c", "ls /"]
    snapshot = parsed(cntr_tui_command(ADDRESS, ["snapshot", "--json"]))
    assert (snapshot.container, snapshot.json) == (CONTAINERD_ID, True)


def test_a_command_without_a_container_is_refused() -> None:
    with pytest.raises(UserError, match="cntr-tui demo does not take a container"):
        cntr_tui_command(ADDRESS, ["demo"])
