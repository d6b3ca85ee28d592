"""The container list as the app needs it, from the runtimes' discovery."""

from __future__ import annotations

from dataclasses import dataclass, field

from cntr_tui.attach.container import Container


@dataclass(frozen=True)
class ListingResult:
    containers: tuple[Container, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None


def fetch_listing() -> ListingResult:
    """Blocking (runtimes answer over sockets and CLIs): call from a thread worker."""
    from cntr_tui.attach.discovery import list_containers

    try:
        listing = list_containers()
    except Exception as error:  # a runtime's failure must not take the UI down
        return ListingResult(error=f"listing containers failed: {error}")
    return ListingResult(
        containers=tuple(listing.containers),
        warnings=tuple(listing.warnings),
    )


@dataclass
class PendingBreakpoints:
    """Breakpoints set from the file browser before the debugger is open, per container."""

    by_container: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, container: Container, location: str) -> None:
        self.by_container.setdefault(container.key, []).append(location)

    def take(self, container: Container) -> list[str]:
        return self.by_container.pop(container.key, [])
