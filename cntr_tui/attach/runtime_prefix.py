"""`RUNTIME:NAME` words: a container named within one runtime, as `lxd:web`,
`docker:web`, `lxc:db`, `podman:api`, `nspawn:build`, `containerd:ID` or
`process:NAME` (the runtime names of `container.RUNTIMES`).

`split_runtime_prefix(word, types)` turns such a word into its name and the one
runtime it allows, so that look-up goes on as with `-t RUNTIME NAME`. A word whose
part before the first colon is not lower-case letters is no prefixed word (`10.0.0.1:80`,
`ns/pod:x`, `my-app:1`): it is returned unchanged. Letters that name no runtime are an
error listing the runtimes, so a command-line word such as `localhost:8080` can no
longer be matched as one (the error says to give the PID); a prefix that `-t`
excludes, and a prefix with nothing after it, are errors too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cntr_tui.attach.container import RUNTIMES
from cntr_tui.errors import UserError


@dataclass(frozen=True)
class PrefixedWord:
    """`lxd:web` as (`lxd`, `web`)."""

    runtime: str
    name: str


def parse_runtime_prefix(word: str) -> PrefixedWord | None:
    """The runtime and name of a `RUNTIME:NAME` word; None for a word without a prefix.

    UserError (one line) for letters before the colon that name no runtime, or for
    no name after it."""
    prefix, colon, name = word.strip().partition(":")
    if not colon or not prefix.isascii() or not prefix.isalpha() or not prefix.islower():
        return None
    if prefix not in RUNTIMES:
        raise UserError(
            f"unknown runtime {prefix!r} in {word.strip()!r}: write RUNTIME:NAME with one of "
            f"{', '.join(RUNTIMES)} (or give the container's PID)"
        )
    if not name.strip():
        raise UserError(f"{word.strip()!r} names no container: write {prefix}:NAME")
    return PrefixedWord(prefix, name.strip())


def split_runtime_prefix(
    word: str, types: Sequence[str] | None
) -> tuple[str, Sequence[str] | None]:
    """(`word` without its runtime prefix, the runtimes to look in): `lxd:web` with
    `types` None gives ("web", ["lxd"]). A word without a prefix comes back as it is,
    with `types`. A prefix `types` (the -t option) leaves out is an error."""
    prefixed = parse_runtime_prefix(word)
    if prefixed is None:
        return word, types
    if types is not None and prefixed.runtime not in types:
        raise UserError(
            f"{word.strip()!r} names a {prefixed.runtime} container, but -t allows only "
            f"{','.join(types)}: drop -t or the {prefixed.runtime}: prefix"
        )
    return prefixed.name, [prefixed.runtime]
