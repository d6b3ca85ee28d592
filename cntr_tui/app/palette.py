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
        # a focused input (the gdb console's) consumes printable keys, and Textual drops
        # their bindings (the panes' 1..8) from active_bindings: by name they still work
        keymap: dict[str, str] = getattr(self.app, "_keymap", {})
        for node in (self.screen, self.app):
            for key, binding in node._bindings:
                name = binding.description or binding.action
                if name in seen or binding.action == "command_palette":
                    continue
                seen.add(name)
                shown = keymap.get(binding.id or "", binding.key_display or key)
                found.append(PaletteCommand(name, binding.action, shown, node))
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
