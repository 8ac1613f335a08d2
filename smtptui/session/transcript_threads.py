"""Which commands went in one write and which command each reply answers: what the
transcript shows beside them when the dialogue is not one command, then its reply."""

from __future__ import annotations

from smtptui.protocol.dialogue import Command
from smtptui.session.transcript import Entry, EntryKind

BRACKETS = ("┌", "│", "└")
"""The first, middle and last command of a pipelined group, in the marker's first cell."""


class Threads:
    """Fed a connection's entries in order (:meth:`add`), it says what to show beside each:
    a bracket and a note on a pipelined group, and on a reply that does not follow its
    command, which command it answers."""

    def __init__(self) -> None:
        self._groups: dict[int, list[int]] = {}  # group number: the indexes of its commands
        self._group_of: dict[int, int] = {}  # index of a grouped command: its group number
        self._sent: dict[Command, int] = {}  # each command: the index of its line
        # a reply that does not answer the latest command sent: that command's index, and it
        self._asked: dict[int, tuple[int, Command]] = {}
        self._last: Command | None = None  # the latest command sent

    def add(self, index: int, entry: Entry) -> None:
        """Take ``entry``, the transcript's entry ``index``."""
        command = entry.command
        if command is None:
            return
        if entry.kind is EntryKind.SENT and not entry.body:  # a message's reply is DATA's
            self._sent[command] = index
            self._last = command
            if command.group:
                self._groups.setdefault(command.group, []).append(index)
                self._group_of[index] = command.group
        elif (
            entry.kind is EntryKind.RECEIVED
            and command in self._sent
            and (command.group or command != self._last)
        ):
            self._asked[index] = self._sent[command], command

    def asked(self, index: int) -> int | None:
        """The index of the command that the reply at ``index`` answers, when that is not
        the latest command sent before it."""
        asked = self._asked.get(index)
        return None if asked is None else asked[0]

    def bracket(self, index: int) -> str:
        """``┌``, ``│`` or ``└`` for a command in a pipelined group, else ""."""
        group = self._groups.get(self._group_of.get(index, 0), ())
        if len(group) < 2:
            return ""
        position = group.index(index)
        return BRACKETS[0 if position == 0 else 2 if position == len(group) - 1 else 1]

    def note(self, index: int) -> str:
        """What to say after entry ``index``: on a group's last command (DATA: short, so the
        note fits), how many it wrote at once; on a reply that does not follow its command,
        which command it answers."""
        group = self._groups.get(self._group_of.get(index, 0), ())
        if len(group) > 1 and group[-1] == index:
            return f"{len(group)} commands in one write"
        asked = self._asked.get(index)
        return "" if asked is None else f"← {asked[1].label}"
