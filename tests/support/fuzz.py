"""How hard the property tests try: ``SMTPTUI_FUZZ_EXAMPLES=N`` gives each of them N
examples (a long fuzz pass, by hand); otherwise each uses its own small count."""

from __future__ import annotations

import os

_FUZZ = int(os.environ.get("SMTPTUI_FUZZ_EXAMPLES", "0"))


def examples(default: int) -> int:
    """The number of examples for a property test whose suite-sized count is ``default``."""
    return _FUZZ or default
