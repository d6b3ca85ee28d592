"""The watch pane's expressions, kept on the host across sessions, per container image.

Where: `Settings.state_dir` (CNTR_TUI_STATE_DIR, /var/lib/cntr-tui by default; the
cores are kept there too) / `watches/`, one small JSON file per key, never in the
container. A `Settings` made in code without a state_dir keeps nothing (the tests'
fake apps).

The key (`watch_key`): a program's watches belong to its image, not to one container
of it, so a container started again, or a second one of the same image, shows them.
- a container whose runtime names its image (docker, podman, containerd, CRI pods,
  LXD, nspawn's image or folder): `image:` and the image's repository, its tag and
  digest dropped (`registry:5000/team/app:1.2@sha256:...` -> `registry:5000/team/app`),
  so a rebuilt or newer tag keeps them, another repository has its own. An image
  named by its bare id (`sha256:...`, what docker shows once its tag moved on) is
  kept as it is.
- a container without an image (plain namespaces, LXC): `RUNTIME:NAME`, its name as
  the runtime lists it (a plain process's is its command name, e.g. `process:threads`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from cntr_tui.attach.container import Container
from cntr_tui.settings import Settings

FOLDER = "watches"  # under the state folder
FORMAT = 1


def image_repository(image: str) -> str:
    """`image` less its `@digest` and `:tag` (a `:` in the last path part is a tag; one
    before a `/` is a registry's port)."""
    if image.startswith("sha256:"):
        return image
    name = image.partition("@")[0]
    head, slash, last = name.rpartition("/")
    return head + slash + last.partition(":")[0]


def watch_key(container: Container) -> str:
    if container.image:
        return f"image:{image_repository(container.image)}"
    return f"{container.runtime}:{container.name}"


@dataclass(frozen=True)
class WatchStore:
    """The kept watches under `folder` (the state folder's `watches/`)."""

    folder: str

    def path_of(self, key: str) -> str:
        return os.path.join(self.folder, hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def load(self, key: str) -> list[str]:
        """The expressions kept for `key`, in the order added; none when the file is
        missing, unreadable or another key's."""
        try:
            with open(self.path_of(key), encoding="utf-8") as file:
                kept = json.load(file)
        except (OSError, ValueError):
            return []
        if not isinstance(kept, dict) or kept.get("key") != key:
            return []
        expressions = kept.get("expressions")
        if not isinstance(expressions, list):
            return []
        return [e for e in expressions if isinstance(e, str) and e]

    def save(self, key: str, expressions: list[str]) -> str | None:
        """Keep `expressions` for `key` (none: the file goes); the file is replaced at
        once (a temporary file renamed over it). The reason it could not, or None."""
        path = self.path_of(key)
        try:
            if not expressions:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                return None
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            temporary = f"{path}.{os.getpid()}.tmp"
            try:
                # Python's open() makes the fd O_CLOEXEC
                with open(temporary, "w", encoding="utf-8") as file:
                    json.dump({"format": FORMAT, "key": key, "expressions": expressions}, file)
                os.replace(temporary, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
        except OSError as error:
            return f"watches not kept in {self.folder}: {error.strerror or error}"
        return None


def kept_watches(
    settings: Settings | None, container: Container
) -> tuple[list[str], Callable[[list[str]], str | None] | None]:
    """The watches kept for `container`'s image, and what keeps them again (None: no
    state folder in `settings`, nothing is kept)."""
    if settings is None or not settings.state_dir:
        return [], None
    store = WatchStore(os.path.join(settings.state_dir, FOLDER))
    key = watch_key(container)
    return store.load(key), lambda expressions: store.save(key, expressions)
