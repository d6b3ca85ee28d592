"""Expressions the user watches: each shows its value at the last stop (highlighted when
it changed since the value shown before); a struct or array expands into its members,
and a last "… N more" row when gdb gave fewer members than the value has (a pretty
printer's container is bounded by `print elements`). The screen passes the watches kept
for the container's image (`restore`) and what keeps them after each add and remove."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Tree
from textual.widgets.tree import TreeNode

from cntr_tui.gdb.records import Variable
from cntr_tui.widgets.locals import (
    MORE_NAME,
    MORE_STYLE,
    SUMMARY,
    element_count,
    more_text,
    split_top_level,
    variable_label,
)
from cntr_tui.widgets.navigation import NAVIGATION, TreeNavigation

CHANGED_STYLE = "bold reverse"

WATCH = [
    Binding("a,insert", "add", "Add watch", id="watch.add"),
    Binding("x,delete", "remove", "Remove watch", id="watch.remove"),
]


@dataclass
class WatchItem:
    """A node: `expression` is what gdb evaluates for it (a member's is built from its
    parent's); `top` is the watched expression it belongs to."""

    expression: str
    top: str
    aggregate: bool = False
    value: str | None = None  # as gdb printed it: says how many members it has


# keeps the watched expressions (in the order added); the reason it could not, or None
Keep = Callable[[list[str]], str | None]


def member_expression(parent: str, name: str) -> str:
    """The expression of a member: an array's `3`, a printer's element `[3]` (a vector's
    operator[] through libstdc++'s xmethods), else a field."""
    if name.isdigit():
        return f"({parent})[{name}]"
    if name.startswith("[") and name.endswith("]") and name[1:-1].isdigit():
        return f"({parent}){name}"
    return f"({parent}).{name}"


def is_aggregate(value: str | None, child_count: int = 0) -> bool:
    if value is None:
        return child_count > 0
    text = value.strip()
    return child_count > 0 or text.startswith("{") or SUMMARY.match(text) is not None


def missing_members(value: str | None, listed: int) -> str | None:
    """The "more" row's text for a value of which `listed` members came (None: all did).

    A printer's summary says how many elements ("of length 100000"; a map's members
    are a key and a value each); else a value gdb printed cut short ("...}") whose
    members were not all listed either (gdb lists a plain array's members all, more
    than it prints) has "more"."""
    if value is None:
        return None
    text = value.strip()
    printed = SUMMARY.match(text)
    summary, elements = (printed.group(1), printed.group(2)) if printed else ("", text)
    pairs = elements.startswith("{[")
    count = element_count(summary)
    if count is not None:
        return more_text(count, listed // 2 if pairs else listed)
    if not elements.endswith("...}") or elements == "{...}":  # a var-object's aggregate
        return None
    shown = len(split_top_level(elements[1:-1]))
    return "more" if listed <= shown + 1 else None


class ExpressionMessage(Message):
    def __init__(self, expression: str) -> None:
        super().__init__()
        self.expression = expression


class WatchInput(ModalScreen[str | None]):
    DEFAULT_CSS = """
    WatchInput { align: center middle; }
    WatchInput > Input { width: 60; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="watch.cancel")]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="expression to watch", id="watch-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class WatchTree(TreeNavigation, Tree[WatchItem]):
    """The watched expressions, in the order added. `changed`: the expressions drawn in
    CHANGED_STYLE."""

    BINDINGS = [*WATCH, *NAVIGATION]

    class Added(ExpressionMessage):
        """The user added `expression`: the screen evaluates it and calls `show_value`."""

    class Removed(ExpressionMessage):
        """The user removed `expression`."""

    class ExpandWanted(ExpressionMessage):
        """A struct/array node was expanded: the screen fetches its members and calls
        `show_children`."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("watch", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.values: dict[str, str | None] = {}
        self.changed: set[str] = set()
        self.keep: Keep | None = None

    @property
    def expressions(self) -> list[str]:
        return [child.data.expression for child in self.root.children if child.data]

    def watched(self, expression: str) -> TreeNode[WatchItem] | None:
        for node in self.root.children:
            if node.data is not None and node.data.expression == expression:
                return node
        return None

    def nodes_of(self, expression: str) -> list[TreeNode[WatchItem]]:
        """Every node gdb evaluates `expression` for: a watch, or a member of another
        watch's struct that has the same expression."""
        found: list[TreeNode[WatchItem]] = []

        def walk(node: TreeNode[WatchItem]) -> None:
            for child in node.children:
                if child.data is not None and child.data.expression == expression:
                    found.append(child)
                walk(child)

        walk(self.root)
        return found

    def restore(self, expressions: Sequence[str], keep: Keep | None) -> None:
        """The watches kept from an earlier session (evaluated at the next stop, as the
        others: no Added), and what keeps them from now on."""
        for expression in expressions:
            if self.watched(expression) is None:
                self.add_node(expression)
        self.keep = keep

    def add_node(self, expression: str) -> None:
        self.root.add_leaf(Text(f"{expression} = …"), data=WatchItem(expression, expression))

    def kept(self) -> None:
        if self.keep is not None:
            problem = self.keep(self.expressions)
            if problem is not None:
                self.notify(problem, title="Watch", severity="warning")

    def add_expression(self, expression: str) -> None:
        """Watch `expression` (once) and post Added; its value comes by `show_value`."""
        if self.watched(expression) is not None:
            return
        self.add_node(expression)
        self.kept()
        self.post_message(self.Added(expression))

    def remove_expression(self, expression: str) -> None:
        node = self.watched(expression)
        if node is None:
            return
        node.remove()
        self.values.pop(expression, None)
        self.changed.discard(expression)
        self.kept()
        self.post_message(self.Removed(expression))

    def action_add(self) -> None:
        def added(expression: str | None) -> None:
            if expression:
                self.add_expression(expression)

        self.app.push_screen(WatchInput(), added)

    def action_remove(self) -> None:
        node = self.cursor_node
        if node is not None and node.data is not None:
            self.remove_expression(node.data.top)

    def show_value(self, expression: str, value: str | None, error: str | None) -> None:
        """The value of a watch (or gdb's error); a struct's members shown until now are
        dropped, and fetched again (ExpandWanted) if its node is open."""
        node = self.watched(expression)
        if node is None or node.data is None:
            return
        before = self.values.get(expression)
        if expression in self.values and value != before:
            self.changed.add(expression)
        else:
            self.changed.discard(expression)
        self.values[expression] = value
        label = Text(f"{expression} = ")
        if value is None:
            label.append(error or "cannot evaluate it", style="italic")
        else:
            label.append(value, style=CHANGED_STYLE if expression in self.changed else "")
        node.set_label(label)
        node.data.aggregate = is_aggregate(value)
        node.data.value = value
        node.remove_children()
        node.allow_expand = node.data.aggregate
        if node.is_expanded and node.data.aggregate:
            self.post_message(self.ExpandWanted(expression))

    def show_children(self, expression: str, children: list[Variable]) -> None:
        for node in self.nodes_of(expression):
            self.show_members(node, children)

    def show_members(self, node: TreeNode[WatchItem], children: list[Variable]) -> None:
        if node.data is None:
            return
        node.remove_children()
        expression = node.data.expression
        for child in children:
            item = WatchItem(
                member_expression(expression, child.name),
                node.data.top,
                is_aggregate(child.value, child.child_count),
                child.value,
            )
            label = variable_label(child.name, child.value or "…", child.type, False)
            node.add(label, data=item, allow_expand=item.aggregate)
        more = missing_members(node.data.value, len(children))
        if more is not None:
            node.add_leaf(Text(f"{MORE_NAME} {more}", style=MORE_STYLE))
        node.expand()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[WatchItem]) -> None:
        event.stop()
        item = event.node.data
        if item is not None and item.aggregate and not event.node.children:
            self.post_message(self.ExpandWanted(item.expression))
