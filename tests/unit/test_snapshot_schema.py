"""The snapshot's JSON and its schema (cntr_tui/debug/snapshot_schema.json).

jsonschema is not installed in .venv: `schema_errors` checks what this schema uses
(type, const, enum, required, additionalProperties false, properties, items, $ref,
minimum, exclusiveMinimum, pattern) and fails on any other keyword, so the schema
cannot grow past what is checked here unnoticed."""

from __future__ import annotations

import re
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.debug.snapshot import (
    SCHEMA_VERSION,
    Snapshot,
    SnapshotFrame,
    SnapshotThread,
    SnapshotVariable,
    group_stacks,
    schema,
    snapshot_json,
)
from cntr_tui.debug.target import DebugTarget

TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}
ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
CHECKED = {"type", "const", "enum", "required", "additionalProperties", "properties"}
CHECKED |= {"items", "$ref", "minimum", "exclusiveMinimum", "pattern"}


def type_matches(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def schema_errors(
    value: Any, node: dict[str, Any], root: dict[str, Any], at: str = "$"
) -> list[str]:
    unknown = set(node) - CHECKED - ANNOTATIONS
    assert not unknown, f"{at}: keyword(s) this checker does not know: {unknown}"
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        return schema_errors(value, root["$defs"][name], root, at)
    errors: list[str] = []
    types = node.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        if not any(type_matches(value, name) for name in names):
            return [f"{at}: {value!r} is not {types}"]
    if "const" in node and value != node["const"]:
        errors.append(f"{at}: {value!r} != {node['const']!r}")
    if "enum" in node and value not in node["enum"]:
        errors.append(f"{at}: {value!r} not in {node['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in node and value < node["minimum"]:
            errors.append(f"{at}: {value} < {node['minimum']}")
        if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
            errors.append(f"{at}: {value} <= {node['exclusiveMinimum']}")
    if isinstance(value, str) and "pattern" in node and not re.search(node["pattern"], value):
        errors.append(f"{at}: {value!r} does not match {node['pattern']}")
    if isinstance(value, dict):
        for key in node.get("required", []):
            if key not in value:
                errors.append(f"{at}: {key} missing")
        properties = node.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{at}.{key}")
            elif node.get("additionalProperties") is False:
                errors.append(f"{at}: {key} not allowed")
    if isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            errors += schema_errors(item, node["items"], root, f"{at}[{index}]")
    return errors


def validate(document: Any) -> list[str]:
    """Where `document` breaks the snapshot schema (empty: it holds)."""
    loaded = schema()
    return schema_errors(document, loaded, loaded)


def frame(level: int, function: str, line: int | None = None, **kw: Any) -> SnapshotFrame:
    return SnapshotFrame(
        level, function, "stalls.c" if line else None, line, "/app/stalls", 0x401000 + level, **kw
    )


WORKER = (frame(0, "__GI___clock_nanosleep"), frame(1, "spin", 44), frame(2, "worker_main", 55))
TICKER = (frame(0, "__GI___clock_nanosleep"), frame(1, "tick_forever", 63))


def snapshot(threads: tuple[SnapshotThread, ...], missing: tuple[str, ...] = ()) -> Snapshot:
    container = Container("docker", "f00d", "web", 4242, image="demo:1")
    target = DebugTarget(4242, 1, container, "docker web")
    return Snapshot(target, "/app/stalls", 1234, "gdbserver", threads, 12.5, None, missing)


def test_identical_stacks_group_with_counts_largest_first() -> None:
    threads = [SnapshotThread(1, 1, "stalls", TICKER, True)]
    threads += [SnapshotThread(n, n, f"worker-{n}", WORKER, True) for n in range(2, 14)]
    threads += [SnapshotThread(14, 14, "odd", (*WORKER[:1], frame(1, "spin", 45)), True)]
    groups = group_stacks(threads)
    assert [len(g.threads) for g in groups] == [12, 1, 1]
    assert sum(len(g.threads) for g in groups) == len(threads)
    assert [f.function for f in groups[0].frames] == [f.function for f in WORKER]
    assert groups[1].threads[0].id == 1  # ties keep the listing's order


def test_a_partly_read_stack_is_not_grouped_with_a_whole_one() -> None:
    whole = SnapshotThread(2, 2, None, WORKER[:1], True)
    top_only = SnapshotThread(3, 3, None, WORKER[:1], False)
    assert len(group_stacks([whole, top_only])) == 2


def test_the_json_holds_the_schema_and_carries_every_field() -> None:
    variables = (
        SnapshotVariable("id", "int", "3", True),
        SnapshotVariable("rounds", None, None, False),
    )
    spin = frame(1, "spin", 44, locals=variables)
    threads = (
        SnapshotThread(1, 1, "stalls", TICKER, True),
        SnapshotThread(2, 7, None, (WORKER[0], spin), False),
    )
    document = snapshot(threads, ("the stack of thread 2",))
    output = snapshot_json(document)
    assert validate(output) == []
    assert output["version"] == SCHEMA_VERSION == schema()["properties"]["version"]["const"]
    assert output["container"] == {
        "runtime": "docker",
        "id": "f00d",
        "name": "web",
        "image": "demo:1",
    }
    assert output["process"]["host_pid"] == 4242 and output["process"]["pid"] == 1
    assert output["complete"] is False and output["missing"] == ["the stack of thread 2"]
    second = output["threads"][1]
    assert second["lwp"] == 7 and second["complete"] is False
    assert second["frames"][1]["locals"][0] == {
        "name": "id",
        "type": "int",
        "value": "3",
        "argument": True,
    }
    assert second["frames"][0]["locals"] is None and second["frames"][0]["address"] == "0x401000"


def test_the_checker_finds_what_breaks_the_schema() -> None:
    output = snapshot_json(snapshot((SnapshotThread(1, 1, None, WORKER, True),)))
    output["threads"][0]["frames"][0]["line"] = "44"
    output["pause"]["extra"] = 1
    del output["process"]["tracer"]
    output["version"] = SCHEMA_VERSION + 1
    errors = validate(output)
    assert len(errors) == 4, errors
