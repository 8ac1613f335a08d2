"""The queue id in a server's reply to a message (the final dot, or BDAT LAST).

RFC 5321 leaves that reply's text free; each MTA words it its own way, and the id is what
finds the message in its logs. ``tests/data/wire`` holds the captured wordings.
"""

from __future__ import annotations

import re

from smtptui.protocol.replies import Reply, parse_enhanced

_ID = r"([\x21-\x7e]+?)"
"""An id: printable ASCII, no space (so nothing a terminal would act on), as short as the
wording around it allows."""

_WORDINGS = (
    re.compile(rf"\bqueued as {_ID}$", re.IGNORECASE),  # Postfix (after BDAT: "N bytes queued as")
    re.compile(rf"^OK id={_ID}$", re.IGNORECASE),  # Exim
    re.compile(rf"^{_ID} Message accepted for delivery$", re.IGNORECASE),  # OpenSMTPD, Sendmail
    re.compile(rf"^<{_ID}> \[InternalId=.*Queued mail for delivery", re.IGNORECASE),  # Microsoft
    re.compile(rf"^OK +\d+ {_ID} - gsmtp$"),  # Gmail
)
"""Each known wording of the reply to a message, the id captured; matched against one line's
text after its enhanced status code."""


def queue_id(reply: Reply) -> str | None:
    """The queue id ``reply`` names, if it is worded as a known MTA words it (the last line
    first: Exim's reply to BDAT LAST says the chunk's size, then the id); None otherwise."""
    if not 200 <= reply.code < 300:
        return None
    for raw in reversed(reply.lines):
        text = raw.decode("ascii", "replace").strip()
        if parse_enhanced(reply.code, raw) is not None:
            text = text.partition(" ")[2].lstrip()
        for wording in _WORDINGS:
            found = wording.search(text)
            if found is not None:
                return found[1]
    return None
