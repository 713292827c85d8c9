"""The kiosk's actions are checked names, not free strings (kiosk/actions.py, kiosk/flows.py):
every action a .kv file or a screen sends exists, every declared one is sent somewhere,
each runs a method its flow's view-model has, and anything else fails at once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kiosk.actions import Action
from kiosk.app_flows import FlowDesk
from kiosk.flows import FLOWS, SERVICES, Entry, FlowName, all_screens

KIOSK = Path(__file__).resolve().parents[1] / "kiosk"
SOURCES = sorted([*KIOSK.rglob("*.kv"), *KIOSK.rglob("*.py")])
DECLARING = {KIOSK / "actions.py", KIOSK / "flows.py"}


def used(enum_name: str) -> set[str]:
    """Every `<enum_name>.MEMBER` written in kiosk/ outside the modules declaring them."""
    pattern = re.compile(rf"\b{enum_name}\.([A-Z][A-Z_]+)\b")
    return {
        name
        for path in SOURCES
        if path not in DECLARING
        for name in pattern.findall(path.read_text(encoding="utf-8"))
    }


class _Store:
    def get(self, key, default=None):
        return default


def models() -> dict:
    return {name: flow.make(None, _Store()) for name, flow in FLOWS.items()}


def test_every_action_used_is_declared_and_every_declared_one_is_used():
    declared = set(Action.__members__)
    sent = used("Action")
    assert sent - declared == set(), "actions used but not declared"
    assert declared - sent == set(), "actions declared but never used"
    assert len(declared) == len(list(Action))  # no two names for one (flow, method)


def test_every_action_runs_a_method_of_its_flows_view_model():
    found = models()
    for action in Action:
        assert callable(getattr(found[action.flow], action.method, None)), action


def test_every_entry_and_flow_named_in_kiosk_exists_and_every_entry_is_used():
    assert used("Entry") <= set(Entry.__members__)
    assert used("Flow") | used("FlowName") <= set(FlowName.__members__)
    offered = used("Entry") | {entry.name for entry in SERVICES.values()}
    assert offered == set(Entry.__members__)
    found = models()
    for entry in Entry:
        assert callable(getattr(found[entry.value.flow], entry.value.start, None)), entry


def test_anything_but_an_action_fails_at_once():
    with pytest.raises(TypeError, match="not a kiosk action"):
        FlowDesk.act(object(), "back")  # the old free string: refused before anything runs
    with pytest.raises(AttributeError):
        Action.VISITOR_BAKC


def test_no_kv_calls_an_app_method_that_does_not_exist():
    app_methods = {
        node.name
        for path in KIOSK.glob("app*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
    }
    calls = {
        name
        for path in KIOSK.rglob("*.kv")
        for name in re.findall(r"\bapp\.(\w+)\(", path.read_text(encoding="utf-8"))
    }
    assert calls - app_methods == set()


def test_each_screen_name_is_built_once_and_every_step_has_its_screen():
    names = [name for name, _path in all_screens()]
    assert len(names) == len(set(names))
    for flow in FLOWS.values():
        for path in flow.screens.values():
            module, _, cls = path.partition(":")
            source = KIOSK.parent / (module.replace(".", "/") + ".py")
            assert f"class {cls}(" in source.read_text(encoding="utf-8"), path
        assert flow.live <= set(flow.screens)
    steps = models()
    for name, flow in FLOWS.items():
        if flow.step_screen is not None:
            assert flow.step_screen(steps[name]) == "home"  # idle: home
