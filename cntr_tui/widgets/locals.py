"""Locals and arguments of the selected frame; structs and arrays expand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cntr_tui.gdb.records import Variable


@dataclass
class ValueNode:
    """A value gdb printed, split into fields when it is an aggregate `{a = 1, ...}`."""

    name: str
    text: str
    children: list[ValueNode] = field(default_factory=list)


def split_top_level(text: str) -> list[str]:
    """Split `a = 1, b = {c = 2, d = "x, y"}` at commas outside braces and quotes."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "{[(<":
            depth += 1
        elif char in "}])>":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
        index += 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def parse_value(name: str, text: str) -> ValueNode:
    """gdb's print syntax to a tree; anything unusual stays one leaf with its text."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return ValueNode(name, text)
    inner = text[1:-1]
    children: list[ValueNode] = []
    for position, part in enumerate(split_top_level(inner)):
        field_name, separator, value = part.partition(" = ")
        if separator and field_name.replace("_", "").replace(".", "").isalnum():
            children.append(parse_value(field_name, value))
        else:
            children.append(parse_value(f"[{position}]", part))
    summary = "{…}" if children else text
    return ValueNode(name, summary, children)


def variable_label(name: str, text: str, type_: str | None, argument: bool) -> Text:
    label = Text()
    label.append(name, style="bold" if argument else "")
    if type_:
        label.append(f" ({type_})", style="dim")
    label.append(" = ")
    label.append(text)
    return label


class LocalsTree(Tree[ValueNode]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("locals", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.names: list[str] = []

    def show_variables(self, variables: Sequence[Variable]) -> None:
        expanded = self.expanded_paths()
        self.clear()
        self.names = [variable.name for variable in variables]
        ordered = sorted(variables, key=lambda variable: not variable.is_argument)
        for variable in ordered:
            value = parse_value(variable.name, variable.value or "<not available>")
            self.add_value(self.root, value, variable.type, variable.is_argument, expanded, "")

    def add_value(
        self,
        parent: TreeNode[ValueNode],
        value: ValueNode,
        type_: str | None,
        argument: bool,
        expanded: set[str],
        prefix: str,
    ) -> None:
        path = f"{prefix}/{value.name}"
        label = variable_label(value.name, value.text, type_, argument)
        if not value.children:
            parent.add_leaf(label, data=value)
            return
        node = parent.add(label, data=value, expand=path in expanded)
        for child in value.children:
            self.add_value(node, child, None, False, expanded, path)

    def expanded_paths(self) -> set[str]:
        paths: set[str] = set()

        def walk(node: TreeNode[ValueNode], prefix: str) -> None:
            for child in node.children:
                if child.data is None:
                    continue
                path = f"{prefix}/{child.data.name}"
                if child.is_expanded:
                    paths.add(path)
                walk(child, path)

        walk(self.root, "")
        return paths

    def show_message(self, message: str) -> None:
        self.clear()
        self.names = []
        self.root.add_leaf(Text(message, style="dim italic"))
