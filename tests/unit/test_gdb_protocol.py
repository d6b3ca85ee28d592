"""GdbSession satisfies the front ends' seam, `debug.protocol.DebugEngine`: every member
the protocol lists exists on GdbSession, is a coroutine function exactly when the
protocol's is, and accepts every parameter the protocol declares (by name and by
position, as a caller through the protocol may pass it). No root, no gdb."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

from cntr_tui.debug.protocol import DebugEngine
from cntr_tui.gdb.session import GdbSession

MEMBERS = sorted(
    name
    for name, value in vars(DebugEngine).items()
    if callable(value) and not name.startswith("_")
)


def parameters(function: Callable[..., object]) -> list[inspect.Parameter]:
    """The parameters after `self`."""
    return list(inspect.signature(function).parameters.values())[1:]


def unaccepted(protocol: Callable[..., object], engine: Callable[..., object]) -> list[str]:
    """The protocol's parameters `engine`'s signature would refuse, each with why."""
    wanted = parameters(protocol)
    offered = parameters(engine)
    by_name = {parameter.name: parameter for parameter in offered}
    takes_any_keyword = any(p.kind is p.VAR_KEYWORD for p in offered)
    takes_any_position = any(p.kind is p.VAR_POSITIONAL for p in offered)
    positional = [p for p in offered if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    problems = []
    for index, parameter in enumerate(wanted):
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        by_position = parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        there = positional[index].name if by_position and index < len(positional) else None
        if by_position and there is None and not takes_any_position:
            problems.append(f"{parameter.name}: not accepted at position {index}")
        elif (
            there is not None
            and there != parameter.name
            and parameter.kind is not parameter.POSITIONAL_ONLY
        ):
            problems.append(f"{parameter.name}: position {index} is {there!r}")
        if parameter.kind is not parameter.POSITIONAL_ONLY:
            found = by_name.get(parameter.name)
            if found is None and not takes_any_keyword:
                problems.append(f"{parameter.name}: no such parameter")
            elif found is not None and found.kind is found.POSITIONAL_ONLY:
                problems.append(f"{parameter.name}: positional only")
        if parameter.default is not parameter.empty:
            found = by_name.get(parameter.name)
            if found is not None and found.default is found.empty:
                problems.append(f"{parameter.name}: optional in the protocol, required here")
    # whatever the engine requires beyond the protocol's parameters, a caller never passes
    named = {parameter.name for parameter in wanted}
    for parameter in offered:
        required = parameter.default is parameter.empty and parameter.kind not in (
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
        )
        if required and parameter.name not in named:
            problems.append(f"{parameter.name}: required here, unknown to the protocol")
    return problems


def test_the_members_are_found() -> None:
    assert "continue_" in MEMBERS and "events" in MEMBERS, MEMBERS


@pytest.mark.parametrize("name", MEMBERS)
def test_gdb_session_has_the_member(name: str) -> None:
    assert callable(getattr(GdbSession, name, None)), f"GdbSession has no {name}"


@pytest.mark.parametrize("name", MEMBERS)
def test_coroutine_ness_matches(name: str) -> None:
    wanted = getattr(DebugEngine, name)
    engine = getattr(GdbSession, name)
    assert inspect.iscoroutinefunction(engine) == inspect.iscoroutinefunction(wanted), name
    if str(inspect.signature(wanted).return_annotation).startswith("AsyncIterator"):
        # iterated with `async for` at once, never awaited first: an async generator
        assert inspect.isasyncgenfunction(engine), name


@pytest.mark.parametrize("name", MEMBERS)
def test_every_protocol_parameter_is_accepted(name: str) -> None:
    problems = unaccepted(getattr(DebugEngine, name), getattr(GdbSession, name))
    assert not problems, f"GdbSession.{name}: {problems}"


def test_the_check_sees_a_signature_that_does_not_fit() -> None:
    class Engine:
        async def interrupt(self, thread: int | None = None) -> None: ...

        async def evaluate(self, expression: str, level: int | None = None) -> None: ...

        async def break_insert(self, location: str, force: bool) -> None: ...

    assert unaccepted(DebugEngine.interrupt, Engine.interrupt)
    assert unaccepted(DebugEngine.evaluate, Engine.evaluate)
    assert unaccepted(DebugEngine.break_insert, Engine.break_insert)
