"""Shell completion: ``smtptui completion SHELL`` prints click's script, and the program
answers the script's questions, run as a shell runs it (a real process, real bash)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import get_completion_class

from smtptui.cli import COMPLETE_VAR, main

MARKERS = {
    "bash": ("_smtptui_completion() {", "complete -o nosort -F _smtptui_completion smtptui"),
    "zsh": ("#compdef smtptui", "compdef _smtptui_completion smtptui"),
    "fish": ("function _smtptui_completion;", "complete --no-files --command smtptui"),
}
"""What each shell's script is made of: its function, and how it registers it."""


def smtptui(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smtptui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize("shell", MARKERS)
def test_each_shell_gets_clicks_own_script(shell: str) -> None:
    result = smtptui("completion", shell)
    assert result.returncode == 0, result.stderr
    script = result.stdout
    assert f"{COMPLETE_VAR}={shell}_complete" in script
    for marker in MARKERS[shell]:
        assert marker in script
    complete = get_completion_class(shell)
    assert complete is not None
    assert script == complete(main, {}, "smtptui", COMPLETE_VAR).source() + "\n"


def test_the_bash_script_is_valid_bash() -> None:
    script = smtptui("completion", "bash").stdout
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_another_shell_is_a_clear_usage_error() -> None:
    result = smtptui("completion", "tcsh")
    assert result.returncode == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr
    assert result.stdout == ""


def complete(words: str, cword: int) -> list[str]:
    """What the program answers bash's script for ``words`` (the word at ``cword`` being
    typed): the ``bash_complete`` protocol, values only."""
    result = smtptui(COMP_WORDS=words, COMP_CWORD=str(cword), **{COMPLETE_VAR: "bash_complete"})
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("smtptui r", 1, ["run"]),
        (
            "smtptui ",
            1,
            [
                "completion",
                "config",
                "diff",
                "mx",
                "open",
                "probe",
                "run",
                "serve",
                "tls-report",
                "ui",
                "web",
            ],
        ),
        ("smtptui co", 1, ["completion", "config"]),
        ("smtptui completion ", 2, ["bash", "zsh", "fish"]),
        ("smtptui run --pl", 2, ["--plain", "--plaintext-auth"]),
        ("smtptui mx.example --de", 2, ["--demo"]),  # a host first: the UI's options
        ("smtptui --the", 1, ["--theme"]),  # an option first: the UI's ("smtptui --demo")
        ("smtptui --ve", 1, ["--version", "--verify", "--verify-name"]),  # the UI's, after
    ],
)
def test_the_program_completes_commands_and_options(
    words: str, cword: int, expected: list[str]
) -> None:
    assert complete(words, cword) == expected


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_a_subcommand(tmp_path: Path) -> None:
    """The script in a real bash: its function asks the program, and fills COMPREPLY."""
    shim = tmp_path / "smtptui"  # this checkout's smtptui, as the shell would find it
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m smtptui "$@"\n')
    shim.chmod(0o755)
    script = smtptui("completion", "bash").stdout
    probe = (
        f"{script}\n"
        "COMP_WORDS=(smtptui se); COMP_CWORD=1\n"
        "_smtptui_completion smtptui\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["serve"]
