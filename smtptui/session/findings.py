"""What a check found, in the words both the CLI and the TUI show: a level, a sentence, and
why it matters. The probe, the TLS report and the MX view report in these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smtptui.session.visible import visible


class Level(StrEnum):
    """How a finding reads: good, worth a look, broken, or just so."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"

    @property
    def mark(self) -> str:
        return _MARKS[self]


_MARKS = {Level.OK: "✔", Level.WARN: "⚠", Level.FAIL: "✘", Level.INFO: "·"}


@dataclass(frozen=True)
class Finding:
    """One thing a check found. ``text`` may quote what a server or DNS said: it is made
    :func:`~smtptui.session.visible.visible` here, once, so no reader has to."""

    level: Level
    text: str
    why: str = ""  # why it matters, in plain words ("" when it speaks for itself)

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Level(self.level))
        object.__setattr__(self, "text", visible(self.text, one_line=True))

    @property
    def line(self) -> str:
        """``✔ text``: the finding on one line, its mark first."""
        return f"{self.level.mark} {self.text}"

    def as_json(self) -> dict[str, str]:
        return {"level": self.level.value, "text": self.text, "why": self.why}


@dataclass(frozen=True)
class Section:
    """A titled group of findings ("Versions", "Certificate", "DANE")."""

    title: str
    findings: tuple[Finding, ...]

    @property
    def level(self) -> Level:
        """The worst level in the section (INFO when it has only information)."""
        for level in (Level.FAIL, Level.WARN, Level.OK):
            if any(finding.level is level for finding in self.findings):
                return level
        return Level.INFO

    def as_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "level": self.level.value,
            "findings": [finding.as_json() for finding in self.findings],
        }
