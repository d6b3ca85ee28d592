"""Command palette: every action of the current screen and the app, by name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode


@dataclass(frozen=True)
class PaletteCommand:
    name: str
    action: str
    key: str
    node: DOMNode


class CntrCommands(Provider):
    """Lists the bindings active on the screen under the palette as commands."""

    def commands(self) -> list[PaletteCommand]:
        seen: set[str] = set()
        found: list[PaletteCommand] = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            name = binding.description or binding.action
            if name in seen or not active.enabled or binding.action == "command_palette":
                continue
            seen.add(name)
            found.append(PaletteCommand(name, binding.action, key, active.node))
        return found

    async def run(self, command: PaletteCommand) -> None:
        await self.app.run_action(command.action, command.node)

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.name, partial(self.run, command), help=command.key)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.name),
                    partial(self.run, command),
                    help=command.key,
                )
