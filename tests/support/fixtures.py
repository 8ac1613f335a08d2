"""The real server bytes and reply texts in ``tests/data``, loaded for the tests.

A missing file is an error, not a reason to skip: the tests are about these bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from smtptui.protocol.replies import Reply, ReplyParser


def fixtures_dir() -> Path:
    """The fixtures folder, ``tests/data``; raises if its index is not there."""
    path = Path(__file__).parent.parent / "data"
    if not (path / "wire" / "index.json").is_file():
        raise FileNotFoundError(f"SMTP fixtures not found at {path}")
    return path


def wire_files(pattern: str = "*.bin") -> list[Path]:
    """The ``wire/*.bin`` files matching ``pattern``, sorted; raises if there are none."""
    files = sorted((fixtures_dir() / "wire").glob(pattern))
    if not files:
        raise FileNotFoundError(f"no wire fixtures match {pattern!r}")
    return files


def parse_replies(data: bytes) -> list[Reply]:
    """Every reply in ``data``, which must hold nothing but complete replies."""
    parser = ReplyParser()
    replies = parser.feed(data)
    parser.eof()
    return replies


def wire_replies(path: Path) -> list[Reply]:
    """The replies a ``.bin`` file holds, parsed by ReplyParser."""
    return parse_replies(path.read_bytes())


@cache
def wire_index() -> dict[str, dict]:
    """``wire/index.json``'s entries, by file name."""
    index = json.loads((fixtures_dir() / "wire" / "index.json").read_text("utf-8"))
    return {entry["file"]: entry for entry in index["files"]}


@dataclass(frozen=True)
class ProviderRow:
    """One row of the table in provider-replies.md."""

    number: int
    who: str
    code: int
    enhanced: str | None
    lines: tuple[str, ...]
    kind: str
    note: str

    def wire(self) -> bytes:
        """The reply as a server would send it, CRLF line endings, enhanced code on each line."""
        prefix = f"{self.enhanced} " if self.enhanced else ""
        out = [
            f"{self.code}{'-' if i < len(self.lines) - 1 else ' '}{prefix}{line}\r\n"
            for i, line in enumerate(self.lines)
        ]
        return "".join(out).encode("utf-8")


NO_CODE = "\N{EN DASH}"
"""What the table writes where a reply has no enhanced code."""

_ROW = re.compile(
    r"^\| (?P<number>\d+) \| (?P<who>[^|]+?) \| (?P<code>\d{3}) \| (?P<enhanced>\S+) \| "
    r"(?P<text>`.*`) \| (?P<kind>doc|seen|src) \| (?P<source>\S+) \|(?P<note>.*)\|$"
)


def _provider_text() -> str:
    return (fixtures_dir() / "provider-replies.md").read_text("utf-8")


@cache
def provider_rows() -> tuple[ProviderRow, ...]:
    """The 80 rows of provider-replies.md's table."""
    rows = []
    for line in _provider_text().splitlines():
        if line.startswith("| ") and line[2:3].isdigit():
            match = _ROW.match(line)
            if match is None:
                raise ValueError(f"unreadable row in provider-replies.md: {line}")
            rows.append(
                ProviderRow(
                    number=int(match["number"]),
                    who=match["who"],
                    code=int(match["code"]),
                    enhanced=None if match["enhanced"] == NO_CODE else match["enhanced"],
                    lines=tuple(re.findall(r"`([^`]*)`", match["text"])),
                    kind=match["kind"],
                    note=match["note"].strip(),
                )
            )
    return tuple(rows)


@cache
def provider_blocks() -> tuple[tuple[str, ...], ...]:
    """The verbatim examples (fenced blocks) of provider-replies.md, as lists of lines."""
    blocks = re.findall(r"^```\n(.*?)^```$", _provider_text(), flags=re.MULTILINE | re.DOTALL)
    return tuple(tuple(block.splitlines()) for block in blocks)


def lines_to_wire(lines: tuple[str, ...]) -> bytes:
    """Published reply lines (shown without line endings) as wire bytes."""
    return "".join(f"{line}\r\n" for line in lines).encode("utf-8")
