"""Modal forms for breakpoints: a new one of any kind (breakpoint, watchpoint, logpoint,
catchpoint) and one value of an existing one (condition, ignore count). The form hands
what was typed to a `submit` callback that asks the engine; the engine's error is shown
in the form, which stays open for a correction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, get_args

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import (
    Checkbox,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from cntr_tui.app import bindings
from cntr_tui.gdb.records import CatchKind, WatchAccess
from cntr_tui.widgets.locals import split_top_level

KINDS = ("breakpoint", "watchpoint", "logpoint", "catchpoint")
ACCESSES: tuple[WatchAccess, ...] = get_args(WatchAccess)
CATCH_KINDS: tuple[CatchKind, ...] = get_args(CatchKind)
HINT = "Enter or ctrl+s: set it · esc: cancel · shift+tab then ←/→: another kind"


@dataclass(frozen=True)
class BreakSpec:
    location: str
    condition: str | None = None
    ignore_count: int = 0
    temporary: bool = False


@dataclass(frozen=True)
class WatchSpec:
    expression: str
    access: WatchAccess = "write"


@dataclass(frozen=True)
class LogSpec:
    location: str
    format: str
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatchSpec:
    kind: CatchKind
    argument: str | None = None


NewBreakpoint = BreakSpec | WatchSpec | LogSpec | CatchSpec
Submit = Callable[[NewBreakpoint], Awaitable[str | None]]
"""Sets it; returns the engine's error, None once set."""


def split_arguments(text: str) -> tuple[str, ...]:
    """`a, f(b, c), "x, y"`: at the commas outside brackets and quotes (C expressions,
    where `->` is no bracket)."""
    return tuple(part for part in split_top_level(text, "()[]{}") if part)


def count_of(text: str) -> int | None:
    """A non-negative count typed by the user ('' is 0), None if it is none."""
    text = text.strip() or "0"
    return int(text) if text.isdigit() else None


class BreakpointForm(ModalScreen[bool]):
    """Dismissed with True once the engine set what the form describes."""

    CSS_PATH = "breakpoint_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [*bindings.FORM]

    def __init__(
        self, submit: Submit, kind: str = "breakpoint", location: str = "", expression: str = ""
    ) -> None:
        """`location`: prefilled for breakpoints and logpoints (the source cursor's);
        `expression`: for watchpoints (the selected local's)."""
        super().__init__()
        self.submit = submit
        self.kind = kind if kind in KINDS else "breakpoint"
        self.location = location
        self.expression = expression

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static("New breakpoint", id="form-title")
            with TabbedContent(initial=f"form-{self.kind}", id="form-kinds"):
                with TabPane("breakpoint", id="form-breakpoint"):
                    yield Label("location (file:line, function, *address)")
                    yield Input(self.location, id="bp-location")
                    yield Label("condition (stop only when true)")
                    yield Input(id="bp-condition")
                    yield Label("ignore count (hits passed over)")
                    yield Input("0", id="bp-ignore", type="integer")
                    yield Checkbox("temporary (deleted at its first stop)", id="bp-temporary")
                with TabPane("watchpoint", id="form-watchpoint"):
                    yield Label("expression")
                    yield Input(self.expression, id="watch-expression")
                    with RadioSet(id="watch-access"):
                        for access in ACCESSES:
                            yield RadioButton(f"on {access}", access == "write", name=access)
                with TabPane("logpoint", id="form-logpoint"):
                    yield Label("location")
                    yield Input(self.location, id="log-location")
                    yield Label('format (printf style: "x is %d\\n")')
                    yield Input(id="log-format")
                    yield Label("arguments (comma-separated expressions)")
                    yield Input(id="log-arguments")
                with TabPane("catchpoint", id="form-catchpoint"):
                    yield Label("what to catch")
                    yield Select(
                        [(kind, kind) for kind in CATCH_KINDS],
                        value="syscall",
                        allow_blank=False,
                        id="catch-kind",
                    )
                    yield Label("argument (syscall names, signals, a regex; empty: all)")
                    yield Input(id="catch-argument")
            yield Static("", id="form-error", markup=False)
            yield Static(HINT, id="form-hint", markup=False)

    def on_mount(self) -> None:
        self.focus_first_field()

    def focus_first_field(self) -> None:
        first = {
            "breakpoint": "#bp-location",
            "watchpoint": "#watch-expression",
            "logpoint": "#log-format" if self.location else "#log-location",
            "catchpoint": "#catch-kind",
        }
        self.set_focus(self.query_one(first[self.active_kind]))

    @property
    def active_kind(self) -> str:
        return str(self.query_one(TabbedContent).active).removeprefix("form-")

    @property
    def error(self) -> str:
        return str(self.query_one("#form-error", Static).render())

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def spec(self) -> NewBreakpoint | str:
        """What the active kind's fields describe, or what is wrong with them."""
        kind = self.active_kind
        if kind == "breakpoint":
            ignore = count_of(self.value("#bp-ignore"))
            if not self.value("#bp-location"):
                return "a location is needed"
            if ignore is None:
                return "the ignore count is a number (0 or more)"
            return BreakSpec(
                self.value("#bp-location"),
                self.value("#bp-condition") or None,
                ignore,
                self.query_one("#bp-temporary", Checkbox).value,
            )
        if kind == "watchpoint":
            if not self.value("#watch-expression"):
                return "an expression is needed"
            pressed = self.query_one(RadioSet).pressed_button
            access = next((a for a in ACCESSES if pressed and pressed.name == a), "write")
            return WatchSpec(self.value("#watch-expression"), access)
        if kind == "logpoint":
            if not self.value("#log-location") or not self.value("#log-format"):
                return "a location and a format are needed"
            arguments = split_arguments(self.value("#log-arguments"))
            return LogSpec(self.value("#log-location"), self.value("#log-format"), arguments)
        catch = self.query_one("#catch-kind", Select).value
        catch_kind = next((k for k in CATCH_KINDS if k == catch), "syscall")
        return CatchSpec(catch_kind, self.value("#catch-argument") or None)

    def show_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(text)

    @on(Input.Submitted)
    async def field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.action_submit()

    async def action_submit(self) -> None:
        spec = self.spec()
        if isinstance(spec, str):
            self.show_error(spec)
            return
        self.show_error("setting it…")
        failed = await self.submit(spec)
        if failed is None:
            self.dismiss(True)
        else:
            self.show_error(failed)

    def action_cancel(self) -> None:
        self.dismiss(False)


EditSubmit = Callable[[str], Awaitable[str | None]]


class BreakpointEdit(ModalScreen[bool]):
    """One value of a breakpoint (its condition, its ignore count), prefilled."""

    CSS_PATH = "breakpoint_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [*bindings.FORM]

    def __init__(self, title: str, value: str, submit: EditSubmit) -> None:
        super().__init__()
        self.title_text = title
        self.initial = value
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(self.title_text, id="form-title", markup=False)
            yield Input(self.initial, id="edit-value")
            yield Static("", id="form-error", markup=False)
            yield Static("Enter: set it · esc: cancel", id="form-hint", markup=False)

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))

    @property
    def error(self) -> str:
        return str(self.query_one("#form-error", Static).render())

    @on(Input.Submitted)
    async def field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.action_submit()

    async def action_submit(self) -> None:
        failed = await self.submit(self.query_one(Input).value.strip())
        if failed is None:
            self.dismiss(True)
        else:
            self.query_one("#form-error", Static).update(failed)

    def action_cancel(self) -> None:
        self.dismiss(False)
