"""Where in a TOML text a key is written: tomllib gives values without their lines, and a
mistake in a file a person wrote should name its line. Shared by config.toml and the
server's rules files (below every layer, so both can use it)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEY_LINE = re.compile(rf"\s*({_DOTTED})\s*=")

Path = tuple[str | int, ...]


def locate(text: str, keys: Path) -> int | None:
    """The line (from 1) where ``keys`` (a path: ``("profiles", "work", "port")``; an index
    for the element of an array of tables, ``("rule", 2, "code")``) is set in the TOML
    ``text``; else that of the nearest table or key above it that is written (a dotted key,
    an inline table); None when none is. An array's key without an index is its first
    element's."""
    lines: dict[Path, int] = {}
    arrays: dict[Path, int] = {}  # each array of tables: its last element's index
    table: Path = ()
    for number, line in enumerate(text.splitlines(), 1):
        if header := _HEADER.match(line):
            plain = _key_path(header[2])
            table = _in_arrays(plain, arrays)
            if header[1] == "[[":
                arrays[plain] = index = arrays.get(plain, -1) + 1
                table = (*table, index)
            lines.setdefault(table, number)
            lines.setdefault(plain, number)
        elif key := _KEY_LINE.match(line):
            for path in {table, tuple(p for p in table if isinstance(p, str))}:
                full = path + _key_path(key[1])
                for end in range(len(path) + 1, len(full) + 1):
                    lines.setdefault(full[:end], number)
    for end in range(len(keys), 0, -1):
        if keys[:end] in lines:
            return lines[keys[:end]]
    return None


def syntax_error_line(text: str, error: tomllib.TOMLDecodeError) -> tuple[int | None, str]:
    """The line tomllib's error is at (None if it does not say) and its message without
    the place."""
    message = str(error)
    if found := re.search(r"\s*\(at line (\d+), column \d+\)$", message):
        return int(found[1]), message[: found.start()]
    if found := re.search(r"\s*\(at end of document\)$", message):
        return max(len(text.splitlines()), 1), message[: found.start()]
    return None, message


def _in_arrays(plain: tuple[str, ...], arrays: dict[Path, int]) -> Path:
    """A table's path with the index of the current element of each array it is inside
    (``[rule.match]`` after the third ``[[rule]]`` is ``("rule", 2, "match")``)."""
    path: Path = ()
    for end, part in enumerate(plain[:-1], 1):
        path = (*path, part)
        if plain[:end] in arrays:
            path = (*path, arrays[plain[:end]])
    return (*path, plain[-1]) if plain else path


def _key_path(dotted: str) -> tuple[str, ...]:
    """The parts of a TOML dotted key, quotes undone (tomllib reads them)."""
    try:
        data: Any = tomllib.loads(f"{dotted} = 0")
    except tomllib.TOMLDecodeError:
        return ()
    parts: list[str] = []
    while isinstance(data, dict) and len(data) == 1:
        [(part, data)] = data.items()
        parts.append(part)
    return tuple(parts)
