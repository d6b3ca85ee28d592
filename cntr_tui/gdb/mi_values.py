"""A fast reader of gdb's MI records, giving exactly what pygdbmi's `parse_response` gives.

pygdbmi reads a record a character at a time (with a logging call for most of them):
1,000 stacks of a snapshot are 1.5 MB of MI, read while the program is stopped, and
100 stacks cost our process 50-80 ms of CPU there (measured: bench/bench_snapshot.py).
This reader takes the same grammar with `str.find` and one regular expression for the
keys, and keeps pygdbmi's shape of the result: a repeated key gathers its values in a
list, a list of `key=value` items keeps the values only, strings with escapes are
unescaped by pygdbmi's own function. Anything it does not expect (no record of gdb's
seen so far) goes to pygdbmi, whose answer is then the answer.
"""

from __future__ import annotations

import re
from typing import Any

from pygdbmi.gdbescapes import advance_past_string_with_gdb_escapes
from pygdbmi.gdbmiparser import parse_response

# pygdbmi's own patterns for result and async records
RESULT = re.compile(r"^(?P<token>\d+)?\^(?P<message>\S+?)(?P<payload>,.*)?$")
NOTIFY = re.compile(r"^(?P<token>\d+)?[*=](?P<message>\S+?)(?P<payload>,.*)?$")
STREAMS = {"~": "console", "&": "log", "@": "target"}
KEY = re.compile(r'([^=,{}\[\]"]+)=')


class Unexpected(ValueError):
    """Text this reader leaves to pygdbmi."""


def parse_record(text: str) -> dict[str, Any]:
    """`pygdbmi.gdbmiparser.parse_response(text)`, faster for gdb's records."""
    try:
        return fast_record(text)
    except (Unexpected, IndexError):
        return parse_response(text)


def fast_record(text: str) -> dict[str, Any]:
    kind = STREAMS.get(text[:1])
    if kind is not None:
        payload = text[2:-1]
        if text[1:2] != '"' or not text.endswith('"') or len(text) < 3:
            raise Unexpected(text)
        if '"' in payload or payload.count("\\") != payload.count("\\n"):
            raise Unexpected(text)  # pygdbmi unescapes (or refuses) it
        return {"type": kind, "message": None, "payload": payload.replace("\\n", "\n")}
    match = RESULT.match(text)
    kind = "result"
    if match is None:
        match = NOTIFY.match(text)
        kind = "notify"
    if match is None:
        raise Unexpected(text)
    message = match["message"]
    token = match["token"]
    return {
        "type": kind,
        "message": message if kind == "result" else message.strip(),
        "payload": None if match["payload"] is None else results(text, match.start("payload") + 1),
        "token": int(token) if token is not None else None,
    }


def results(text: str, index: int) -> dict[str, Any]:
    """The `key=value,...` from `index` to the end of `text`."""
    found, end = tuple_of(text, index, None)
    if end != len(text):
        raise Unexpected(text)
    return found


def tuple_of(text: str, index: int, closer: str | None) -> tuple[dict[str, Any], int]:
    """`key=value,...` up to `closer` (None: the end of the text); the index past it."""
    found: dict[str, Any] = {}
    if closer is not None and text[index] == closer:
        return found, index + 1
    while True:
        key = KEY.match(text, index)
        if key is None:
            raise Unexpected(text)
        name = key.group(1)
        value, index = value_of(text, key.end())
        if name in found:
            earlier = found[name]
            if isinstance(earlier, list):
                earlier.append(value)
            else:
                found[name] = [earlier, value]
        else:
            found[name] = value
        if index == len(text):
            if closer is None:
                return found, index
            raise Unexpected(text)
        char = text[index]
        if char == ",":
            index += 1
        elif char == closer:
            return found, index + 1
        else:
            raise Unexpected(text)


def list_of(text: str, index: int) -> tuple[list[Any], int]:
    """`[value,...]` or `[key=value,...]` (the values only, as pygdbmi) from past `[`."""
    found: list[Any] = []
    if text[index] == "]":
        return found, index + 1
    while True:
        if text[index] in '"{[':
            value, index = value_of(text, index)
        else:
            key = KEY.match(text, index)
            if key is None:
                raise Unexpected(text)
            value, index = value_of(text, key.end())
        found.append(value)
        char = text[index]
        if char == ",":
            index += 1
        elif char == "]":
            return found, index + 1
        else:
            raise Unexpected(text)


def value_of(text: str, index: int) -> tuple[Any, int]:
    char = text[index]
    if char == '"':
        end = text.find('"', index + 1)
        if end < 0:
            raise Unexpected(text)
        if text.find("\\", index + 1, end) < 0:
            return text[index + 1 : end], end + 1
        return advance_past_string_with_gdb_escapes(text, start=index + 1)
    if char == "{":
        return tuple_of(text, index + 1, "}")
    if char == "[":
        return list_of(text, index + 1)
    raise Unexpected(text)
