"""Findings: made visible once, a section's level its worst finding's, JSON as shown."""

from __future__ import annotations

import pytest

from smtptui.session import Finding, Level, Section


def test_a_finding_writes_out_control_characters_and_line_breaks() -> None:
    finding = Finding(Level.WARN, "banner says \x1b[31mevil\r\nhost")
    assert finding.line == "⚠ banner says \\x1b[31mevil\\x0d\\x0ahost"


def test_a_level_may_be_given_by_name_and_a_bad_one_is_refused() -> None:
    assert Finding("ok", "fine").level is Level.OK  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Finding("great", "fine")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("levels", "worst"),
    [
        ((), Level.INFO),
        ((Level.INFO,), Level.INFO),
        ((Level.INFO, Level.OK), Level.OK),
        ((Level.OK, Level.WARN, Level.INFO), Level.WARN),
        ((Level.WARN, Level.FAIL, Level.OK), Level.FAIL),
    ],
)
def test_a_section_reads_as_its_worst_finding(levels: tuple[Level, ...], worst: Level) -> None:
    section = Section("Versions", tuple(Finding(level, "x") for level in levels))
    assert section.level is worst


def test_json_carries_level_text_and_why() -> None:
    section = Section("DANE", (Finding(Level.FAIL, "no match", "because"),))
    assert section.as_json() == {
        "title": "DANE",
        "level": "fail",
        "findings": [{"level": "fail", "text": "no match", "why": "because"}],
    }
