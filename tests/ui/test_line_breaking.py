"""Chinese lines break by the usual rules on the real kiosk: no line of the
wrong-code error or the fire-alarm broadcast starts with 。or ， (read from the
lines Kivy rendered, at the kiosk's real widths, in both orientations)."""

from __future__ import annotations

import pytest

from kiosk.flows import Entry, FlowName
from shared.emergency_broadcast import KINDS
from shared.text_wrap import NO_LINE_START
from tests.ui.conftest import step


def rendered_lines(label) -> list[str]:
    label.texture_update()
    return ["".join(word.text for word in line.words) for line in label._label._cached_lines]


def assert_breaks_well(label, wraps=True):
    lines = [line for line in rendered_lines(label) if line]
    assert len(lines) >= 2 or not wraps, lines  # it does wrap: the rule is tested
    assert "".join(lines).replace(" ", "") == label.text.replace(" ", "").replace("\n", "")
    starts = [line[0] for line in lines[1:]]
    assert not [s for s in starts if s in NO_LINE_START], lines


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
@pytest.mark.parametrize("left", [None, 2])
def test_the_wrong_code_error_never_starts_a_line_with_punctuation(start_kiosk, orientation, left):
    app = start_kiosk(orientation=orientation)
    app.begin(Entry.PARCEL)
    if left is None:
        app.parcel._error("parcel.error.wrong_code")
    else:
        app.parcel._error("parcel.error.wrong_code_left", n=left)
    app.show(FlowName.PARCEL)
    step(3)
    error = app.root.get_screen("parcel_pickup").ids.error
    assert "取件码不匹配。" in error.text
    assert_breaks_well(error, wraps=False)  # as shown: all of it, in its slot
    for width in (600, 520, 450, 380, 340):  # narrower: more breaks to get right
        error.text_size = (width, None)
        assert_breaks_well(error)


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_the_fire_alarm_instructions_never_start_a_line_with_punctuation(start_kiosk, orientation):
    app = start_kiosk(orientation=orientation)
    fire = KINDS["fire"]
    app.broadcast.apply_state(
        {
            "latest_id": 1,
            "emergency": {
                "emergency_id": 1,
                "id": 1,
                "kind": "fire",
                "instructions_zh": fire["instructions_zh"],
                "instructions_en": fire["instructions_en"],
                "started_at": "2026-11-27T09:00:00+00:00",
            },
        }  # fmt: skip
    )
    app.broadcast_desk.show()
    step(3)
    overlay = app.emergency_overlay
    assert overlay.is_open
    assert_breaks_well(overlay.ids.instructions_zh)
