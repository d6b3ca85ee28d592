"""Locals and arguments of the selected frame; structs and arrays expand."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cntr_tui.gdb.records import Variable
from cntr_tui.widgets.navigation import NAVIGATION, TreeNavigation

POINTER = re.compile(r"^(\([^)]*\*\)\s*)?0x[0-9a-f]+(\s+<[^>]*>)?$")
# a pretty printer's summary before its elements: libstdc++'s "std::vector of length 3,
# capacity 3 = {...}", "std::map with 2 elements = {...}", Rust's "Vec(size=3) = {...}"
SUMMARY = re.compile(r"^([^{}\"']*?) = (\{.*\})$", re.DOTALL)
COUNT = re.compile(r"\b(?:of length|with) (\d+)\b|\(size=(\d+)\)")
MORE_NAME = "…"  # the name of the row that says how many members are not shown
MORE_STYLE = "dim italic"


@dataclass
class ValueNode:
    """A value gdb printed, split into fields when it is an aggregate `{a = 1, ...}`.

    `expression` names it for gdb (`w`, `w->name`, `(*w).total`); a non-null pointer
    can be expanded: its target is fetched then (`*expression`).
    """

    name: str
    text: str
    children: list[ValueNode] = field(default_factory=list)
    expression: str = ""

    @property
    def is_more(self) -> bool:
        """The row saying how many more members there are (`more_text`), not a value."""
        return self.name == MORE_NAME and not self.expression

    @property
    def is_pointer(self) -> bool:
        match = POINTER.match(self.text)
        if match is None:
            return False
        address = self.text[match.end(1) if match.group(1) else 0 :].split()[0]
        return int(address, 16) != 0


def split_top_level(text: str, brackets: str = "{}[]()<>") -> list[str]:
    """Split `a = 1, b = {c = 2, d = "x, y"}` at commas outside quotes and `brackets`
    (opening and closing characters in pairs: gdb's values count `<>` for templates,
    C expressions must not, their `->` is no bracket)."""
    opening, closing = brackets[0::2], brackets[1::2]
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
        elif char in opening:
            depth += 1
        elif char in closing:
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
        index += 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def element_count(summary: str) -> int | None:
    """How many elements a pretty printer's summary says its value has (None when it
    does not say)."""
    found = COUNT.search(summary)
    return int(found.group(1) or found.group(2)) if found else None


def more_text(count: int | None, shown: int) -> str | None:
    """The "more members" row's text: how many of `count` are not among the `shown`
    ("more" when the count is not known); None when none are missing."""
    if count is None:
        return "more"
    return f"{count - shown:,} more" if count > shown else None


def more_node(text: str) -> ValueNode:
    return ValueNode(MORE_NAME, text)


def parse_value(name: str, text: str, expression: str | None = None) -> ValueNode:
    """gdb's print syntax to a tree; anything unusual stays one leaf with its text.

    gdb prints at most `print elements` elements of an array or a printer's container
    (200), then "...": that value gets a last "… N more" child (N from the printer's
    summary, "of length 100000", or "… more" when nothing says how many)."""
    text = text.strip()
    expression = name if expression is None else expression
    summary = ""
    printed = SUMMARY.match(text)
    if printed is not None and not text.startswith("{"):
        summary, text = printed.group(1), printed.group(2)
    if not (text.startswith("{") and text.endswith("}")):
        return ValueNode(name, summary or text, expression=expression)
    inner = text[1:-1]
    children: list[ValueNode] = []
    parts = split_top_level(inner)
    truncated = bool(parts) and parts[-1].endswith("...") and not parts[-1].startswith(('"', "'"))
    if truncated:
        parts[-1] = parts[-1].removesuffix("...").rstrip()
    for position, part in enumerate(parts):
        field_name, separator, value = part.partition(" = ")
        if separator and field_name.replace("_", "").replace(".", "").isalnum():
            children.append(parse_value(field_name, value, f"({expression}).{field_name}"))
        elif separator and field_name.startswith("[") and field_name.endswith("]"):
            # a map's element: ["key"] = value
            children.append(parse_value(field_name, value, ""))
        else:
            children.append(parse_value(f"[{position}]", part, f"({expression})[{position}]"))
    if truncated:
        count = element_count(summary)
        more = more_text(count, len(children)) if count is not None else "more"
        if more is not None:
            children.append(more_node(more))
    shown = "{…}" if children else text
    return ValueNode(name, f"{summary} = {shown}" if summary else shown, children, expression)


def variable_label(name: str, text: str, type_: str | None, argument: bool) -> Text:
    label = Text()
    label.append(name, style="bold" if argument else "")
    if type_:
        label.append(f" ({type_})", style="dim")
    label.append(" = ")
    label.append(text)
    return label


class LocalsTree(TreeNavigation, Tree[ValueNode]):
    BINDINGS = NAVIGATION

    class TargetWanted(Message):
        """A pointer was expanded: the screen evaluates `*expression` and calls
        `show_target`."""

        def __init__(self, node: TreeNode[ValueNode]) -> None:
            super().__init__()
            self.node = node

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[ValueNode]) -> None:
        event.stop()
        value = event.node.data
        if value is not None and value.is_pointer and not event.node.children:
            self.post_message(self.TargetWanted(event.node))

    def show_target(self, node: TreeNode[ValueNode], text: str | None, error: str | None) -> None:
        """The pointed-to value under the pointer's node (or gdb's reason it cannot)."""
        node.remove_children()
        if node.data is None:
            return
        if text is None:
            node.add_leaf(Text(error or "cannot read it", style="italic"))
            return
        target = parse_value(f"*{node.data.name}", text, f"*({node.data.expression})")
        if target.children:
            for child in target.children:
                self.add_value(node, child, None, False, set(), "")
        else:
            node.add_leaf(variable_label(target.name, target.text, None, False), data=target)

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
        if value.is_more:
            parent.add_leaf(Text(f"{MORE_NAME} {value.text}", style=MORE_STYLE))
            return
        path = f"{prefix}/{value.name}"
        label = variable_label(value.name, value.text, type_, argument)
        if value.is_pointer:
            parent.add(label, data=value, allow_expand=True)  # its target comes on expand
            return
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
