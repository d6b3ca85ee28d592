"""Find the Go runtime's gdb support (`runtime-gdb.py`) on the host for a binary's Go
release: the script knows the runtime's structures of its own release only.

Looked for, in order: the path the linker wrote into the binary (its GOROOT at build
time), then Debian's and the upstream tarball's places for the same release. The
host's files are what gdb reads too: in an attach session the merged root serves the
host's `/` at `/`.
"""

from __future__ import annotations

from pathlib import Path

from cntr_tui.languages.go_binary import GoBinary

SCRIPT_IN_GOROOT = "src/runtime/runtime-gdb.py"
GOROOT_PATTERNS = ("/usr/lib/go-{release}", "/usr/share/go-{release}")
UNVERSIONED_GOROOTS = ("/usr/local/go", "/usr/lib/go")


def goroot_release(goroot: Path) -> str | None:
    """The release ("1.19") of a GOROOT's VERSION file ("go1.19.8")."""
    try:
        first = (goroot / "VERSION").read_text().split()[0]
    except (OSError, IndexError):
        return None
    parts = first.removeprefix("go").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def candidates(binary: GoBinary) -> list[Path]:
    release = binary.release
    found = [Path(binary.gdb_script)] if binary.gdb_script else []
    if release is None:
        return found
    found += [Path(p.format(release=release)) / SCRIPT_IN_GOROOT for p in GOROOT_PATTERNS]
    found += [
        Path(goroot) / SCRIPT_IN_GOROOT
        for goroot in UNVERSIONED_GOROOTS
        if goroot_release(Path(goroot)) == release
    ]
    return found


def script_release(script: Path) -> str | None:
    """The release of the GOROOT a runtime-gdb.py belongs to (its VERSION file)."""
    return goroot_release(script.resolve().parents[2])


def find_runtime_gdb(binary: GoBinary) -> Path | None:
    """The host's runtime-gdb.py of the binary's release; None when there is none (or
    the binary's version is unknown and its own path is not on the host)."""
    for script in candidates(binary):
        if script.is_file() and (
            binary.release is None or script_release(script) in (None, binary.release)
        ):
            return script
    return None


def missing_support(binary: GoBinary) -> str:
    """One line: why goroutines cannot be read, and what would fix it."""
    if not binary.has_dwarf:
        return (
            f"{binary.path} has no DWARF (built with -ldflags=-s or -w): goroutines need "
            "the runtime's types; rebuild without -s -w (go build keeps them by default)"
        )
    if not binary.x86_64:
        return (
            f"{binary.path} is not an x86-64 program: parked goroutines are unwound by "
            "amd64's frame-pointer chain, other architectures are not supported yet"
        )
    if binary.release is None:
        return (
            f"the Go version of {binary.path} is unknown (no build info; Go older than "
            "1.18?) and its runtime-gdb.py is not on the host: install that Go release"
        )
    return (
        f"no runtime-gdb.py for Go {binary.release} on the host (the binary is "
        f"{binary.version}): install golang-{binary.release}-src (Debian) or that Go "
        f"release under /usr/local/go"
    )
