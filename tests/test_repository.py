"""The repository stands alone: no tracked file refers to a path outside it."""

from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_PATH = r"[^\s'\"`()<>\[\]]*"
UP = re.compile(r"(?<![\w./-])(?:\./)?(?:\.\./)+" + _PATH)
"""A relative path that starts by going up: ``../sibling``, ``./../x``."""

OUTSIDE = tuple(place for place in ("/work", str(Path.home()), str(ROOT)) if place != "/")
"""Absolute places that are not the repository: the workplace, this user's home (unless it
is ``/``), and the checkout itself (which could be anywhere)."""

ABSOLUTE = re.compile(
    r"(?<![\w.~-])(?:" + "|".join(re.escape(place) for place in OUTSIDE) + ")/" + _PATH
)

ITSELF = Path(__file__).resolve().relative_to(ROOT).as_posix()
"""This file, whose examples name such paths."""


def tracked_text_files() -> list[str]:
    """The tracked files, by path from the root, less the binary ones and this one."""
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.skip("git is not installed")
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != ROOT:
        pytest.skip(f"{ROOT} is not a git checkout (an unpacked sdist?)")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [
        name
        for name in listed.stdout.split("\0")
        if (ROOT / name).is_file()
        and name != ITSELF
        and not (name.startswith("tests/data/wire/") and name.endswith(".bin"))
        and b"\0" not in (ROOT / name).read_bytes()
    ]


def outside_references(name: str, text: str) -> list[tuple[int, str]]:
    """The line number and path of each path in ``text``, the file ``name`` (from the root),
    that leads out of the repository."""
    folder = posixpath.dirname(name)
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for path in UP.findall(line):
            if posixpath.normpath(posixpath.join(folder, path)).startswith("../"):
                found.append((number, path))
        found += [(number, path) for path in ABSOLUTE.findall(line)]
    return found


def test_no_file_refers_outside_the_repository() -> None:
    names = tracked_text_files()
    assert names
    found = [
        f"{name}:{number}: {path}"
        for name in names
        for number, path in outside_references(name, (ROOT / name).read_text("utf-8", "replace"))
    ]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("README.md", "as [drawn](../sibling/DESIGN.md) there", ["../sibling/DESIGN.md"]),
        ("tests/x.py", 'Path("./../../outside")', ["./../../outside"]),
        ("tests/x.py", 'Path("../support")', []),
        ("tests/session/x.py", '("../étrange/host", 1)', []),
        (".ci/run", 'cd "$(dirname "$0")/.."', []),
        ("x.md", "a/../b, ~/work/x, /tmp/cert.pem, https://x.example/../y", []),
        ("x.sh", "cp /work/main/y .", ["/work/main/y"]),
        ("x.md", f"`{ROOT}/tests`", [f"{ROOT}/tests"]),
    ],
)
def test_what_leads_outside(name: str, text: str, found: list[str]) -> None:
    assert [path for _, path in outside_references(name, text)] == found
