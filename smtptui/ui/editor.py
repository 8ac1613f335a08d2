"""Text edited in the user's own editor (``$VISUAL``, ``$EDITOR``, else ``vi``), the app
suspended meanwhile so the editor has the terminal."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from textual.app import App, SuspendNotSupported


class EditorError(Exception):
    """The editor could not start, failed, or left what cannot be read back."""


def editor_command() -> list[str]:
    """``$VISUAL`` or else ``$EDITOR`` split as a shell would (``code --wait``), else vi."""
    for name in ("VISUAL", "EDITOR"):
        try:
            if command := shlex.split(os.environ.get(name, "")):
                return command
        except ValueError as error:
            raise EditorError(f"${name} cannot be split into words: {error}") from None
    return ["vi"]


def edit_text(app: App[object], text: str, suffix: str = ".txt") -> str:
    """``text`` as the editor saved it in a temporary file (deleted afterwards). A headless
    app (under a test) cannot be suspended: the editor runs all the same, with no terminal
    (its output would otherwise land in the test's). Any other app that cannot be suspended
    (in a browser) has no terminal to lend: an error says so. Raises :class:`EditorError`
    if the editor cannot start, exits non-zero or leaves text that is not UTF-8."""
    command = editor_command()
    handle, name = tempfile.mkstemp(prefix="smtptui-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(app.suspend())
                streams: dict[str, int] = {}
            except SuspendNotSupported:
                if not app.is_headless:
                    raise EditorError(
                        "this display cannot lend its terminal to an editor"
                    ) from None
                streams = dict.fromkeys(("stdin", "stdout", "stderr"), subprocess.DEVNULL)
            try:
                status = subprocess.run([*command, name], check=False, **streams).returncode
            except OSError as error:
                raise EditorError(f"cannot start {command[0]}: {error.strerror}") from None
        if status != 0:
            raise EditorError(f"{shlex.join(command)} exited with status {status}")
        try:
            return path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise EditorError(f"cannot read the edited text back: {error}") from None
    finally:
        path.unlink(missing_ok=True)
