"""The table of actions (``session.keymap``) as Textual bindings, and ``[keymap]`` checked
against the keys Textual knows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual.app import App
from textual.binding import Binding, Keymap
from textual.keys import Keys, _character_to_key, key_to_character

from smtptui.config import load_keymap
from smtptui.session.keymap import (
    ACTIONS,
    BY_ID,
    KeyAction,
    Scope,
    clashes,
    key_name,
    keys_name,
    keys_of,
    split,
    use,
)

_LEGACY_KEYS = {"shift+f6": "f18", "shift+f8": "f20"}
"""What xterm-like terminals send for these keys, as Textual names it (bound alongside)."""


def terminal_keys(keys: Iterable[str]) -> str:
    """``keys`` as a binding's key string, with what terminals send for some of them."""
    keys = list(keys)
    return ",".join([*keys, *(_LEGACY_KEYS[key] for key in keys if key in _LEGACY_KEYS)])


_MODIFIERS = frozenset({"ctrl", "alt", "shift", "super", "meta", "hyper"})

_NAMED = frozenset(key.value for key in Keys if "+" not in key.value)
"""The keys Textual names in words (``f5``, ``enter``, ``pageup``)."""


def _binding(action: KeyAction, run: str, priority: bool = False) -> Binding:
    show = action.footer
    keys = terminal_keys(split(action.keys))
    return Binding(keys, run, action.label, show=show, priority=priority, id=action.id)


def bindings(scope: Scope) -> list[Binding]:
    """The bindings of the actions in ``scope``, each with its action's id; the steps (and
    the app's own keys that must work in a text field) with priority."""
    return [
        _binding(action, action.action, priority=scope is Scope.STEP)
        for action in ACTIONS
        if action.scope is scope
    ]


def bindings_of(ids: Iterable[str]) -> list[Binding]:
    """The bindings of the actions ``ids`` alone, for an app that offers only those."""
    return [_binding(BY_ID[id], BY_ID[id].action) for id in ids]


def anywhere() -> list[Binding]:
    """The app's bindings for the transcript keys that work from anywhere but a text field:
    each goes to the transcript and runs there."""
    return [
        _binding(action, f"to_transcript({action.action!r})")
        for action in ACTIONS
        if action.anywhere
    ]


def hint(ids: Iterable[str]) -> str:
    """``Enter explain  / search``: the first key of each action, and what it does."""
    return "  ".join(f"{keys_name(id, first=True)} {BY_ID[id].label.lower()}" for id in ids)


def _normal(key: str) -> str:
    """``key`` as Textual names it: ``/`` is ``slash``."""
    return _character_to_key(key) if len(key) == 1 else key


def _nameable(key: str) -> bool:
    """Whether Textual can name ``key`` (so a terminal's key press can match it)."""
    *modifiers, base = key.split("+")
    if not set(modifiers) <= _MODIFIERS or not base:
        return False
    return len(base) == 1 or base in _NAMED or key_to_character(base) is not None


def checked_keymap(keymap: Mapping[str, str]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """``[keymap]`` (ids known, from ``config.load_keymap``) as each id's keys, Textual's
    names; and what cannot be applied: a key Textual cannot name, a key two actions would
    share (those entries are dropped, their actions keep their defaults)."""
    remapped: dict[str, tuple[str, ...]] = {}
    problems: list[str] = []
    for id, text in keymap.items():
        keys = tuple(_normal(key) for key in split(text))
        unknown = [key for key in keys if not _nameable(key)]
        if unknown or not keys:
            problems.append(
                f"[keymap] {id}: no key named {', '.join(map(repr, unknown)) or repr(text)} "
                "(keys look like ctrl+k, alt+c, f5, slash)"
            )
        else:
            remapped[id] = keys
    while found := [each for each in clashes(remapped) if {*each[1:]} & {*remapped}]:
        key, id, other = found[0]
        dropped = [each for each in (id, other) if each in remapped]
        problems.append(
            f"[keymap] {key_name(key)} would be both {id} ({BY_ID[id].label}) and {other} "
            f"({BY_ID[other].label}): {' and '.join(dropped)} not remapped"
        )
        for each in dropped:
            del remapped[each]
    return remapped, problems


def configured_keymap() -> tuple[Keymap, list[str]]:
    """config.toml's ``[keymap]``, checked and made the keys every name and help shows
    (:func:`session.keymap.use`): the keymap for ``App.set_keymap``, and what of it cannot
    be used (each said on screen; those actions keep their default keys)."""
    found, unread = load_keymap()
    remapped, unusable = checked_keymap(found)
    use(remapped)
    keymap = {id: terminal_keys(keys) for id, keys in remapped.items()}
    return keymap, [f"{problem}; the default keys kept" for problem in (*unread, *unusable)]


def apply_keymap(app: App[Any], keymap: Keymap) -> None:
    """Bind ``keymap``'s keys in ``app`` (Textual replaces the keys of the bindings with
    those ids), the command palette's as well, which the footer shows."""
    app.set_keymap(keymap)
    app.COMMAND_PALETTE_BINDING = keys_of("palette")[0]
