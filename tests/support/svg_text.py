"""The text of a Textual SVG screenshot, row by row: what a snapshot mismatch prints, so a
failure in CI says which lines changed without the HTML report the run leaves behind."""

from __future__ import annotations

import difflib
import html
import re

_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>')


def screen_rows(svg: str) -> list[str]:
    """The screen's rows as text, left to right, trailing spaces dropped."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for match in _TEXT.finditer(svg):
        x, y, text = float(match[1]), float(match[2]), html.unescape(match[3])
        rows.setdefault(y, []).append((x, text))
    return [
        "".join(text for _, text in sorted(rows[y])).replace("\xa0", " ").rstrip()
        for y in sorted(rows)
    ]


def screen_diff(expected: str, actual: str) -> str:
    """A unified diff of two screenshots' text; empty when only colours or styles differ."""
    lines = difflib.unified_diff(
        screen_rows(expected), screen_rows(actual), "snapshot", "this run", lineterm=""
    )
    return "\n".join(lines)
