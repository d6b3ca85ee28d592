"""The `kubectl` client, run as a subprocess: it has the user's kubeconfig, contexts,
credentials plugins and proxies, which a library of ours would have to redo. A failure
is one line: kubectl's own last line on stderr."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cntr_tui.errors import UserError

NOT_FOUND = "(NotFound)"


class KubectlFailed(UserError):
    """kubectl exited non-zero; `stderr` is all it said."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


@dataclass(frozen=True)
class Kubectl:
    """`executable`: kubectl's path (found on PATH by `find`)."""

    executable: str

    @classmethod
    def find(cls) -> Kubectl:
        path = shutil.which("kubectl")
        if path is None:
            raise UserError("kubectl is not on PATH: kubectl cntr asks the API server through it")
        return cls(path)

    def run(self, args: Sequence[str], input_text: str | None = None, timeout: float = 60) -> str:
        """kubectl's stdout; KubectlFailed with its last stderr line when it fails."""
        what = " ".join(args[:2])
        try:
            result = subprocess.run(
                [self.executable, *args],
                input=input_text,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise KubectlFailed(f"kubectl {what} gave no answer in {timeout:.0f} s", "") from error
        except OSError as error:
            raise UserError(f"kubectl could not be run ({self.executable}: {error})") from error
        if result.returncode != 0:
            raise KubectlFailed(f"kubectl {what} failed: {last_line(result.stderr)}", result.stderr)
        return result.stdout

    def get_json(self, args: Sequence[str]) -> dict[str, Any]:
        """`kubectl get ... -o json`, decoded."""
        text = self.run(["get", *args, "-o", "json"])
        try:
            answer = json.loads(text)
        except ValueError as error:
            raise UserError(f"kubectl get {args[0]} answered no JSON ({error})") from error
        if not isinstance(answer, dict):
            raise UserError(f"kubectl get {args[0]} answered no object")
        return answer

    def command(self, args: Sequence[str]) -> list[str]:
        return [self.executable, *args]
