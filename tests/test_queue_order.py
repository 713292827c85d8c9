"""The live queue's order: emergencies first, then the longest wait (shared/queue_order.py)."""

from shared import queue_order


def _visit(item_id, at):
    return {"type": "visit", "id": item_id, "received_at": f"2026-11-27T09:00:{at:02d}+00:00"}


def _escalation(item_id, at, kind="help", screen="home", status="open"):
    return {
        "type": "escalation",
        "id": item_id,
        "kind": kind,
        "screen": screen,
        "status": status,
        "received_at": f"2026-11-27T09:00:{at:02d}+00:00",
    }


def test_an_entrapment_goes_above_older_ordinary_visitors():
    items = [_visit(1, 0), _visit(2, 5), _escalation(3, 40, kind="emergency", screen="repair")]
    ordered = queue_order.in_order(items)
    assert [(i["type"], i["id"]) for i in ordered] == [
        ("escalation", 3),
        ("visit", 1),
        ("visit", 2),
    ]
    assert [i["priority"] for i in ordered] == [queue_order.EMERGENCY, *[queue_order.ORDINARY] * 2]


def test_a_help_call_from_the_emergency_screen_is_an_emergency_but_one_from_home_is_not():
    urgent = _escalation(1, 30, screen="repair_emergency")
    ordinary = _escalation(2, 0, screen="home")
    assert queue_order.in_order([ordinary, urgent])[0]["id"] == 1
    assert queue_order.priority(ordinary) == queue_order.ORDINARY


def test_within_a_class_the_longest_wait_comes_first():
    items = [
        _escalation(5, 50, kind="emergency"),
        _visit(1, 20),
        _escalation(4, 10, kind="emergency"),
        _escalation(2, 5, status="acknowledged"),  # answered: keeps its place by age
        {"type": "handover", "id": 9, "received_at": "2026-11-27T08:59:59+00:00"},
    ]
    ordered = [(i["type"], i["id"]) for i in queue_order.in_order(items)]
    assert ordered == [
        ("escalation", 4),
        ("escalation", 5),
        ("handover", 9),
        ("escalation", 2),
        ("visit", 1),
    ]


def test_the_same_time_orders_the_same_way_every_refresh():
    items = [_visit(2, 0), _escalation(7, 0), _visit(1, 0)]
    first = [(i["type"], i["id"]) for i in queue_order.in_order(items)]
    second = [(i["type"], i["id"]) for i in queue_order.in_order(list(reversed(items)))]
    assert first == second == [("escalation", 7), ("visit", 1), ("visit", 2)]


def test_the_kiosk_home_emergency_sorts_above_an_older_ordinary_call():
    """Home's "紧急求助 · Emergency" (a lift entrapment, smoke, a burst pipe) has no unit:
    a help call named after the hazard, which must not wait behind a call from home."""
    older = _escalation(1, 0, screen="home")
    for hazard in ("sos_elevator", "sos_fire", "sos_water"):
        sos = _escalation(2, 40, screen=hazard)
        assert [i["id"] for i in queue_order.in_order([older, sos])] == [2, 1], hazard
        assert sos["priority"] == queue_order.EMERGENCY
