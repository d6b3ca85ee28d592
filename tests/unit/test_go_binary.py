"""A Go binary's ELF facts (build info version, DWARF, its runtime-gdb.py path) and
finding the host's runtime-gdb.py of the same release."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from cntr_tui.demo.go_root import SOURCE, go_build, go_tool, go_version, program_source
from cntr_tui.errors import UserError
from cntr_tui.languages.go_binary import (
    GoBinary,
    build_version,
    gdb_script_path,
    read_go_binary,
)
from cntr_tui.languages.go_runtime_support import find_runtime_gdb, missing_support

# the start of `.go.buildinfo` of the demo program (go 1.19.8, linux/amd64): the magic,
# pointer size 8, flags 2 (strings inline), padding, then the version as a uvarint string
RECORDED_BUILDINFO = (
    b"\xff Go buildinf:\x08\x02" + b"\x00" * 16 + b"\x08go1.19.8\xaf\x010w\xaf\x0c\x92t\x08"
)
RECORDED_GDB_SCRIPTS = b"\x01/usr/lib/go-1.19/src/runtime/runtime-gdb.py\x00"


def test_version_from_the_build_info():
    assert build_version(RECORDED_BUILDINFO) == "go1.19.8"
    assert build_version(RECORDED_BUILDINFO[:15] + b"\x00" + RECORDED_BUILDINFO[16:]) is None
    assert build_version(b"\xff Go buildinf:") is None  # cut short
    assert build_version(b"not build info" * 4) is None


def test_runtime_gdb_path_from_debug_gdb_scripts():
    assert gdb_script_path(RECORDED_GDB_SCRIPTS) == "/usr/lib/go-1.19/src/runtime/runtime-gdb.py"
    assert gdb_script_path(b"\x04inline script\x00" + RECORDED_GDB_SCRIPTS).endswith("gdb.py")
    assert gdb_script_path(b"\x01unterminated") is None


def test_files_that_are_no_go_program(tmp_path: Path):
    text = tmp_path / "text"
    text.write_text("#!/bin/sh\n")
    empty = tmp_path / "empty"
    empty.touch()
    assert read_go_binary(text) is None
    assert read_go_binary(empty) is None
    assert read_go_binary(tmp_path / "absent") is None
    assert read_go_binary("/bin/sh") is None  # an ELF, not Go


def goroot(base: Path, version: str) -> Path:
    script = base / "src/runtime/runtime-gdb.py"
    script.parent.mkdir(parents=True)
    script.write_text("# runtime-gdb.py\n")
    (base / "VERSION").write_text(f"{version}\ntime 2023-03-29\n")
    return script


def test_the_binary_s_own_goroot_is_taken_when_its_release_matches(tmp_path: Path):
    script = goroot(tmp_path / "go", "go1.99.2")
    binary = GoBinary("/app/server", "go1.99.7", True, str(script))
    assert binary.release == "1.99"
    assert find_runtime_gdb(binary) == script


def test_another_release_s_script_is_not_taken(tmp_path: Path):
    script = goroot(tmp_path / "go", "go1.98.0")
    binary = GoBinary("/app/server", "go1.99.7", True, str(script))
    assert find_runtime_gdb(binary) is None
    missing = missing_support(binary)
    assert "Go 1.99" in missing and "golang-1.99-src" in missing and "\n" not in missing


def test_a_stripped_binary_says_so_and_how_to_fix_it():
    binary = GoBinary("/app/server", "go1.19.8", False, None)
    missing = missing_support(binary)
    assert "no DWARF" in missing and "-s -w" in missing and "/app/server" in missing


def test_a_program_of_another_architecture_says_it_is_not_supported():
    binary = GoBinary("/app/server", "go1.19.8", True, None, x86_64=False)
    assert "not an x86-64 program" in missing_support(binary)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo program built by the host's Go, with DWARF and stripped."""
    try:
        go = go_tool()
    except UserError as error:
        pytest.skip(str(error))
    build = tmp_path_factory.mktemp("go-build")
    (build / SOURCE).write_bytes(program_source())
    go_build(go, build, build / "with-dwarf")
    go_build(go, build, build / "stripped", "-ldflags=-s -w")
    return build / "with-dwarf", build / "stripped"


def test_the_host_built_program_read_from_its_elf(built: tuple[Path, Path]):
    with_dwarf, stripped = (read_go_binary(path) for path in built)
    assert with_dwarf is not None and stripped is not None
    toolchain = go_version(go_tool()).split()[2]  # "go version go1.19.8 linux/amd64"
    assert with_dwarf.version == stripped.version == toolchain
    assert with_dwarf.has_dwarf and not stripped.has_dwarf
    assert with_dwarf.gdb_script and with_dwarf.gdb_script.endswith("runtime/runtime-gdb.py")
    assert stripped.gdb_script is None
    assert with_dwarf.x86_64 == (platform.machine() == "x86_64")
