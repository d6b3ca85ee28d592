"""printers.py without gdb: which printers a host has (real files in a temporary folder:
the version read from a library's name or link, rustup's and a plain rustc's sysroot),
the note on a version mismatch, and the commands gdb is sent."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from cntr_tui.gdb.placement import Placement
from cntr_tui.gdb.printers import (
    LIBSTDCXX_PYTHON,
    RUST_LOADER,
    HostPrinters,
    find_host_printers,
    library_version,
    printer_arguments,
    printer_commands,
    rust_sysroot,
    version_note,
)

SESSION = Placement(container_root="/var/lib/cntr", inside_session=True)
ON_HOST = Placement()  # a program sharing our root: gdb's auto-load finds its printers
RUST = "/opt/rust/lib/rustlib/etc"
BOTH = HostPrinters(libstdcxx=LIBSTDCXX_PYTHON, libstdcxx_version="6.0.30", rust=RUST)


def executable(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_library_version_from_name_or_link(tmp_path: Path) -> None:
    (tmp_path / "libstdc++.so.6.0.32").write_bytes(b"")
    os.symlink("libstdc++.so.6.0.32", tmp_path / "libstdc++.so.6")
    os.symlink("/elsewhere/libstdc++.so.6.0.29", tmp_path / "absolute")  # not followed
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy/libstdc++.so.6").write_bytes(b"")  # as the demo root has it
    assert library_version(str(tmp_path / "libstdc++.so.6.0.32")) == "6.0.32"
    assert library_version(str(tmp_path / "libstdc++.so.6")) == "6.0.32"
    assert library_version(str(tmp_path / "absolute")) == "6.0.29"
    assert library_version(str(tmp_path / "copy/libstdc++.so.6")) is None
    assert library_version(str(tmp_path / "libc.so.6")) is None


def test_version_note_only_for_a_known_different_version() -> None:
    note = version_note("6.0.32", "6.0.30")
    assert note and "6.0.32" in note and "6.0.30" in note
    assert version_note("6.0.30", "6.0.30") is None
    assert version_note(None, "6.0.30") is None
    assert version_note("6.0.32", None) is None


def test_rust_sysroot_of_a_plain_rustc(tmp_path: Path) -> None:
    executable(tmp_path / "usr/bin/rustc")
    assert rust_sysroot({"PATH": f"/nonexistent:{tmp_path}/usr/bin"}) == str(tmp_path / "usr")
    assert rust_sysroot({"PATH": "/nonexistent"}) is None


def test_rust_sysroot_through_rustups_proxy(tmp_path: Path) -> None:
    executable(tmp_path / "cargo/bin/rustup")
    os.symlink("rustup", tmp_path / "cargo/bin/rustc")
    home = tmp_path / "rustup"
    (home / "toolchains/stable-x86_64-unknown-linux-gnu").mkdir(parents=True)
    (home / "toolchains/nightly-x86_64-unknown-linux-gnu").mkdir()
    (home / "settings.toml").write_text('version = "12"\ndefault_toolchain = "stable"\n')
    environment = {"PATH": str(tmp_path / "cargo/bin"), "RUSTUP_HOME": str(home)}
    stable = home / "toolchains/stable-x86_64-unknown-linux-gnu"
    assert rust_sysroot(environment) == str(stable)
    nightly = {**environment, "RUSTUP_TOOLCHAIN": "nightly-x86_64-unknown-linux-gnu"}
    assert rust_sysroot(nightly) == str(home / "toolchains/nightly-x86_64-unknown-linux-gnu")
    assert rust_sysroot({**environment, "RUSTUP_TOOLCHAIN": "beta"}) is None  # not installed
    os.unlink(tmp_path / "cargo/bin/rustc")
    os.link(tmp_path / "cargo/bin/rustup", tmp_path / "cargo/bin/rustc")  # as rustup-init does
    assert rust_sysroot(environment) == str(stable)


def test_rust_printers_found_only_with_their_loader(tmp_path: Path) -> None:
    executable(tmp_path / "usr/bin/rustc")
    environment = {"PATH": str(tmp_path / "usr/bin")}
    assert find_host_printers(environment).rust is None
    etc = tmp_path / "usr/lib/rustlib/etc"
    etc.mkdir(parents=True)
    (etc / RUST_LOADER).write_text("")
    assert find_host_printers(environment).rust == str(etc)


def test_no_printers_no_commands() -> None:
    assert printer_arguments(SESSION, HostPrinters()) == []


def test_commands_for_a_container() -> None:
    arguments = printer_arguments(SESSION, BOTH)
    assert arguments[::2] == ["-iex"] * (len(arguments) // 2)
    cli = arguments[1::2]
    assert all("\n" not in command for command in cli)  # one line each
    assert sum(command.startswith("python ") for command in cli) == 1
    root, python_dir, version, _, _, register = hook_arguments(SESSION)  # parses: gdb runs it
    assert (root, python_dir, version) == ("/var/lib/cntr", LIBSTDCXX_PYTHON, "6.0.30")
    compile(register, "register", "exec")  # and what it runs at libstdc++'s load parses
    assert f"add-auto-load-safe-path {RUST}" in cli
    assert f"set directories $cdir:$cwd:{RUST}" in cli  # last: sources are looked for first


def hook_arguments(placement: Placement) -> list[object]:
    hook = next(c for c in printer_commands(placement, BOTH) if c.startswith("python "))
    executed = ast.parse(hook.removeprefix("python ")).body[0].value  # exec(CODE, {...})
    call = ast.parse(executed.args[0].value).body[-1].value  # the hook's last line
    return [argument.value for argument in call.args]


def test_a_program_on_the_host_has_no_version_to_compare() -> None:
    """Sharing our root, the program's libstdc++ is the host's: the hook (root "", any
    objfile path, `target:` ones too) has no version to compare."""
    root, _, version, _, _, _ = hook_arguments(ON_HOST)
    assert (root, version) == ("", None)
