"""The table of actions (issue 17, part 1), without Textual: every step has a key that is
not a function key, the ids are unique, no two actions share a key where both are live,
keys are named as people read them, and ``[keymap]`` in config.toml is read leniently
(each mistake named with its line, the rest kept) and followed by the fixes the session
gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smtptui.config import load_config, load_keymap
from smtptui.protocol.providers import RULES
from smtptui.session import advice
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
    with_keys,
)


@pytest.fixture
def remapped() -> Iterator[None]:
    """Whatever a test remaps is undone after it."""
    yield
    use({})


def test_every_step_has_a_default_that_is_not_a_function_key() -> None:
    steps = [action for action in ACTIONS if action.action.startswith("step(")]
    assert len(steps) == 19
    for action in steps:
        others = [key for key in split(action.keys) if not key.split("+")[-1][1:].isdigit()]
        assert others, f"{action.id} has only function keys: {action.keys}"


def test_every_step_has_an_alt_letter_a_terminal_sends_as_such() -> None:
    """Alt and a letter, never a digit (ESC 2 reads as ™) nor B or F (word left, right)."""
    for action in ACTIONS:
        if action.scope is Scope.STEP and action.keys.startswith(("f", "shift+f")):
            [alt] = [key for key in split(action.keys) if key.startswith("alt+")]
            letter = alt.removeprefix("alt+")
            assert letter.isalpha() and len(letter) == 1 and letter not in "bf", action.id


def test_ids_are_unique_and_every_action_says_what_it_does() -> None:
    assert len(BY_ID) == len(ACTIONS)
    for action in ACTIONS:
        assert action.id.isidentifier() and action.label and action.help, action
        assert split(action.keys), action


def test_no_two_actions_share_a_key_where_both_are_live() -> None:
    assert clashes({}) == []


def test_a_shared_key_is_found_only_where_both_are_live() -> None:
    assert clashes({"connect": ("f3",)}) == [("f3", "connect", "ehlo")]
    # The transcript's keys and the Compose pane's are never live at once.
    assert clashes({"load": ("c",)}) == []
    assert clashes({"load": ("alt+m",)}) == [("alt+m", "mx", "load")]
    # serve --ui and diff --ui are apps of their own: the main app's keys are not live
    # there, but F1, Ctrl+Q and (in serve's) the transcript's are.
    assert clashes({"serve_messages": ("alt+m",), "diff_only_changes": ("f",)}) == []
    assert clashes({"serve_messages": ("f",)}) == [("f", "filter", "serve_messages")]
    assert clashes({"diff_certificate_a": ("f1",)}) == [("f1", "help", "diff_certificate_a")]
    assert clashes({"serve_next_pane": ("ctrl+q",)}) == [("ctrl+q", "exit", "serve_next_pane")]


def test_keys_are_named_as_people_read_them() -> None:
    names = {
        "f2": "F2",
        "shift+f6": "Shift+F6",
        "ctrl+t": "Ctrl+T",
        "alt+c": "Alt+C",
        "n": "n",
        "N": "N",
        "slash": "/",
        "ctrl+slash": "Ctrl+/",
        "left_square_bracket": "[",
        "escape": "Esc",
        "enter": "Enter",
        "up": "↑",
        "alt+comma": "Alt+,",
        "alt+period": "Alt+.",
        "alt+left": "Alt+Left",
    }
    assert {key: key_name(key) for key in names} == names
    assert keys_name("connect") == "F2, Alt+C"
    assert keys_name("connect", first=True) == "F2"


def test_a_remapped_key_is_the_one_named_everywhere(remapped: None) -> None:
    use({"starttls": ("ctrl+k",)})
    assert keys_of("starttls") == ("ctrl+k",)
    assert keys_of("connect") == ("f2", "alt+c")
    [rule] = [rule for rule in RULES if "{starttls}" in rule.advice.fix][:1]
    assert "STARTTLS (Ctrl+K; smtptui run: --starttls)" in advice.fix(rule.advice)
    assert with_keys("{connect} connect, {starttls} STARTTLS, {nosuch}") == (
        "F2 connect, Ctrl+K STARTTLS, {nosuch}"
    )
    assert with_keys("{connect:nof} connect, {starttls:nof}, {nosuch:nof}") == (
        "Alt+C connect, Ctrl+K, {nosuch:nof}"
    )
    use({"ehlo": ("f3",)})  # only an F-key left: that one
    assert with_keys("{ehlo:nof} EHLO") == "F3 EHLO"
    use({})
    assert "STARTTLS (F4; smtptui run: --starttls)" in advice.fix(rule.advice)


def test_the_keymap_is_read_and_each_mistake_named_with_its_line(config_dir: Path) -> None:
    (config_dir / "config.toml").write_text(
        "theme = 'x'\n[keymap]\nconnect = 'ctrl+k'\nnosuch = 'f5'\nehlo = 3\nsend = 'f9, ctrl+y'\n"
    )
    config = load_config()
    assert config.keymap == {"connect": "ctrl+k", "send": "f9, ctrl+y"}
    unknown, not_keys = config.keymap_problems
    assert unknown.endswith("line 4: [keymap] has no action 'nosuch' (the README lists them)")
    assert "line 5: [keymap] ehlo must be keys in a string" in not_keys
    assert load_keymap() == (config.keymap, config.keymap_problems)


def test_a_keymap_that_is_not_a_table_or_a_file_that_is_not_toml_is_one_problem(
    config_dir: Path,
) -> None:
    path = config_dir / "config.toml"
    path.write_text("keymap = 'ctrl+k'\n")
    assert load_keymap() == ({}, (f"config {path}, line 1: keymap must be a table: [keymap]",))
    path.write_text("[keymap\n")
    keymap, (problem,) = load_keymap()
    assert keymap == {} and problem.startswith(f"keymap not read: config {path}")


def test_scopes_cover_every_action() -> None:
    assert {action.scope for action in ACTIONS} == set(Scope)


def test_a_mistake_in_a_profile_does_not_cost_the_keymap(config_dir: Path) -> None:
    (config_dir / "config.toml").write_text("[profiles.a]\nprot = 25\n[keymap]\nconnect = 'f5'\n")
    assert load_keymap() == ({"connect": "f5"}, ())


README = Path(__file__).resolve().parents[2] / "README.md"

_WHERE = {
    Scope.STEP: "anywhere, even in a field",
    Scope.APP: "anywhere",
    Scope.TRANSCRIPT: "transcript",
    Scope.COMPOSE: "Compose",
    Scope.SERVE: "`serve --ui`",
    Scope.DIFF: "`diff --ui`",
}


def readme_row(action: KeyAction) -> str:
    """The README's Keys table row of ``action`` (``python -c 'from test_keymap import
    readme_table; print(readme_table())'`` in tests/session prints the table)."""
    where = _WHERE[action.scope] + " (and anywhere but a text field)" * action.anywhere
    keys = ", ".join(key_name(key) for key in split(action.keys))
    return f"| `{action.id}` | {keys} | {where} | {action.help} |\n"


def readme_table() -> str:
    return "| id | keys | where | what it does |\n|---|---|---|---|\n" + "".join(
        map(readme_row, ACTIONS)
    )


def test_the_readme_lists_every_action_with_its_default_keys() -> None:
    """The README's Keys table is the table of actions, row for row (regenerate it with
    :func:`readme_table` when an action changes)."""
    text = README.read_text(encoding="utf-8")
    assert readme_table() in text
