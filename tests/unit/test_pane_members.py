"""The "more members" row of the locals and watch panes (issue 14): a value gdb gives
bounded (`print elements`, a pretty printer's container) ends in a row saying how many
more it has, from what gdb printed; the machine panes' vector registers and kept
disassembly on the fake engine are in test_machine_panes."""

from __future__ import annotations

from textual.app import App, ComposeResult

from cntr_tui.gdb.records import Variable
from cntr_tui.widgets.locals import MORE_NAME, LocalsTree, parse_value
from cntr_tui.widgets.watch import WatchTree, member_expression, missing_members
from tests.unit.test_screens import until

SHOWN = 200  # gdb's default `print elements`
FIRST = ", ".join(map(str, range(SHOWN)))
VECTOR = f"std::vector of length 100000, capacity 100000 = {{{FIRST}...}}"
ARRAY = f"{{{FIRST}...}}"  # int big[100000]


def test_a_bounded_vector_ends_in_how_many_more_it_has() -> None:
    value = parse_value("many", VECTOR)
    assert value.text == "std::vector of length 100000, capacity 100000 = {…}"
    assert [child.text for child in value.children[:3]] == ["0", "1", "2"]
    assert len(value.children) == SHOWN + 1
    assert value.children[SHOWN - 1].text == "199"  # the "..." is not in the value
    more = value.children[-1]
    assert more.is_more and (more.name, more.text) == (MORE_NAME, "99,800 more")


def test_an_array_cut_short_says_more_and_a_whole_one_says_nothing() -> None:
    cut = parse_value("big", ARRAY)
    assert cut.children[-1].is_more and cut.children[-1].text == "more"
    whole = parse_value("counts", "std::vector of length 3, capacity 3 = {1, 2, 3}")
    assert [child.text for child in whole.children] == ["1", "2", "3"]
    assert not any(child.is_more for child in whole.children)
    struct = parse_value("w", '{id = 1, name = "worker-1..."}')  # a string cut short
    assert [child.name for child in struct.children] == ["id", "name"]
    pairs = parse_value("sides", 'std::map with 2 elements = {["rectangle"] = 4, ["triangle"] = 3}')
    assert [(child.name, child.text) for child in pairs.children] == [
        ('["rectangle"]', "4"),
        ('["triangle"]', "3"),
    ]


def test_what_the_watch_pane_says_is_missing() -> None:
    assert missing_members(VECTOR, SHOWN + 1) == "99,799 more"  # the printer gives one more
    assert missing_members("std::vector of length 3, capacity 3 = {1, 2, 3}", 3) is None
    assert missing_members("std::map with 300 elements = {[1] = 2...}", 2 * 201) == "99 more"
    assert missing_members(ARRAY, 100_000) is None  # gdb lists a plain array's members all
    assert missing_members(ARRAY, SHOWN + 1) == "more"
    assert missing_members("{id = 1, total = 2}", 2) is None
    assert missing_members("{...}", 2) is None  # how a var-object's struct member reads


class Host(App[None]):
    def __init__(self, tree: LocalsTree | WatchTree) -> None:
        super().__init__()
        self.pane = tree

    def compose(self) -> ComposeResult:
        yield self.pane


def labels(node) -> list[str]:
    return [str(child.label) for child in node.children]


async def test_the_locals_tree_shows_the_more_row_last_and_dimmed() -> None:
    tree = LocalsTree()
    async with Host(tree).run_test() as pilot:
        tree.show_variables([Variable("many", VECTOR)])
        await pilot.pause()
        (many,) = tree.root.children
        shown = labels(many)
        assert shown[0] == "[0] = 0" and shown[SHOWN - 1] == "[199] = 199"
        assert shown[-1] == f"{MORE_NAME} 99,800 more"
        assert many.children[-1].data is None  # no value: no watchpoint, no expand


async def test_the_watch_tree_shows_the_more_row_after_the_members() -> None:
    tree = WatchTree()
    async with Host(tree).run_test() as pilot:
        tree.add_expression("many")
        tree.show_value("many", VECTOR, None)
        node = tree.watched("many")
        assert node is not None and node.allow_expand  # a printer's container expands
        members = [Variable(f"[{n}]", str(n), "int") for n in range(SHOWN + 1)]
        tree.show_children("many", members)
        await until(pilot, lambda: node.children, "the members")
        shown = labels(node)
        assert len(shown) == SHOWN + 2
        assert shown[-2].startswith("[200]")
        assert shown[-1] == f"{MORE_NAME} 99,799 more"


def test_a_printer_element_is_indexed_not_a_field() -> None:
    # a struct inside a std::vector: the printer names it "[1]"; "(ps).[1]" is a gdb
    # syntax error, "(ps)[1]" goes through libstdc++'s operator[] xmethod
    assert member_expression("ps", "[1]") == "(ps)[1]"
    assert member_expression("(ps)[1]", "v") == "((ps)[1]).v"
    assert member_expression("a", "3") == "(a)[3]"
