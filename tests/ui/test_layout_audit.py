"""Every kiosk screen, in both orientations and both languages, read from the real
widget tree after real layout and text rendering:

- no visible widget outside the screen, none over the top bar or the step header;
- no two tappable widgets overlapping; every tap target at least MIN_TARGET;
- no label whose rendered text is bigger than its box (unless it cuts on purpose:
  `shorten` or `max_lines`);
- Back in one place and one size on every screen that has one (per orientation).

One kiosk per orientation and language walks every screen in turn.

Screenshots: tests/screenshots/layout/<screen>_<orientation>_<language>.png.
"""

from __future__ import annotations

import pytest
from kivy.core.text import Label as CoreLabel
from kivy.core.text.markup import MarkupLabel
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput

from kiosk import theme
from kiosk.actions import Action
from kiosk.flows import Entry, FlowName
from kiosk.viewmodels import invitation as iv
from kiosk.viewmodels import parcel as pv
from kiosk.viewmodels import repair as rv
from kiosk.viewmodels import sign_out as so
from kiosk.viewmodels import ticket_status as tv
from kiosk.widgets import NavBar
from tests.ui.conftest import SCREENSHOTS, screenshot, step, tap, wait_until

ORIENTATIONS = ("portrait", "landscape")
LANGUAGES = ("zh_CN", "en")
SLACK = 1.5  # px: layout rounding


# -- driving each screen (view-model actions, as the kv buttons call them) ----------
def _visitor_to(app, *actions):
    app.open_service("visitor")
    for action in actions:
        app.act(action)


def _phone_error(app):
    _visitor_to(app)
    for digit in "12345":
        app.act(Action.VISITOR_PHONE_KEY_AND_GO, digit)  # 5 digits: no going on
    app.act(Action.VISITOR_PHONE_NEXT)


def _name(app):
    _visitor_to(app, Action.VISITOR_SKIP_PHONE)
    wait_until(lambda: app.visitor.step == "name", timeout=5)
    app.act(Action.VISITOR_LETTER, "z")
    app.act(Action.VISITOR_PICK_SURNAME, "张")
    app.visitor.pick_title("ms")  # the chip, without going on (as pick_title_and_go does)
    app.show(FlowName.VISITOR, navigate=True)


def _returning(app, last_unit="1201"):
    _visitor_to(app)
    app.visitor.step, app.visitor.returning_name = "returning", "张*明"
    app.visitor.phone, app.visitor.last_unit = "+8613812345678", last_unit
    app.show(FlowName.VISITOR, navigate=True)


def _unit(app):
    _name(app)
    app.act(Action.VISITOR_NAME_NEXT)
    for digit in "9999":
        app.act(Action.VISITOR_UNIT_KEY, digit)


def _purpose(app):
    _unit(app)
    app.act(Action.VISITOR_UNIT_NEXT)
    wait_until(lambda: app.visitor.step == "purpose", timeout=5)


def _outcome(app):
    _purpose(app)
    app.act(Action.VISITOR_SUBMIT, app.language)


def _repair_to(app, step_name):
    app.begin(Entry.REPAIR)
    for digit in "203":
        app.act(Action.REPAIR_UNIT_KEY, digit)
    if step_name == "unit":
        return
    app.repair.step, app.repair.unit = "category", "203"  # offline no check; a checked unit goes on
    app.show(FlowName.REPAIR, navigate=True)
    if step_name == "category":
        return
    app.act(Action.REPAIR_PICK_CATEGORY, rv.categories()[0].key)
    if step_name == "problem":
        return
    problems = app.repair.problems()
    if step_name == "emergency":
        urgent = next((c.key, p.key) for c in rv.categories() for p in c.problems if p.emergency)
        app.repair.category_key = urgent[0]
        app.act(Action.REPAIR_PICK_PROBLEM, urgent[1], app.language)
        return
    app.act(
        Action.REPAIR_PICK_PROBLEM, next(p.key for p in problems if not p.emergency), app.language
    )
    if step_name == "urgency":
        return
    if step_name == "details":
        app.act(Action.REPAIR_ADD_DETAILS)
        return
    app.act(Action.REPAIR_SUBMIT, "normal", app.language)


def _ticket_entry(app):
    app.begin(Entry.TICKET_STATUS)
    for digit in "1234":
        app.act(Action.TICKET_STATUS_KEY, digit)


def _ticket_found(app):
    app.begin(Entry.TICKET_STATUS)
    vm = app.ticket_status
    vm.summary = tv.summary_from(
        {
            "number": "2026-0042",
            "status": "resolved",
            "category": "water",
            "problem": "dripping_tap",
            "urgency": "normal",
            "latest_update": {
                "text": "师傅已更换厨房水槽下的软管，请检查是否还漏水。",
                "at": "2026-11-27T08:40:00+00:00",
            },
            "can_rate": True,
        }
    )
    vm.state, vm.found_by, vm.ident = tv.FOUND, tv.BY_QR, {"qr": "T" * 40}
    app.show(FlowName.TICKET_STATUS, navigate=True)


def _ticket_low_rating(app):
    _ticket_found(app)
    app.act(Action.TICKET_STATUS_RATE, 2)  # a low rating asks why: "Submit rating" in the NavBar


def _ticket_thanks(app):
    _ticket_found(app)
    app.act(Action.TICKET_STATUS_RATE, 5)


def _sign_out(app):
    app.begin(Entry.SIGN_OUT)
    for digit in "13812345678":
        app.act(Action.SIGN_OUT_KEY, digit)


def _sign_out_failed(app):
    _sign_out(app)
    app.sign_out.state = so.FAILED  # the console refused: Retry in the primary slot
    app.show(FlowName.SIGN_OUT)


def _parcel(app):
    app.begin(Entry.PARCEL)
    for digit in "1234":
        app.act(Action.PARCEL_KEY, digit)


def _parcel_wrong_code(app):
    """A wrong code with the tries left, as the console's refusal leaves it."""
    _parcel(app)
    app.parcel.entry.field = pv.CODE
    for digit in "123456":
        app.act(Action.PARCEL_KEY, digit)
    app.parcel._error("parcel.error.wrong_code_left", n=2)
    app.show(FlowName.PARCEL)


def _help(app):
    app.call_reception("home")


def _invitation(app, state, **values):
    """The invitation screens as the view-model leaves them (kiosk/viewmodels/invitation.py)."""
    vm = app.invitation
    vm.reset()
    vm.state = state
    for name, value in values.items():
        setattr(vm, name, value)
    app.show(FlowName.INVITATION, navigate=True)


_GREETING = {"greeting_zh": "欢迎 张** · 拜访 1201", "greeting_en": "Welcome 张** · visiting 1201"}


def _resident_link(app):
    app.begin(Entry.PARCEL)
    app.begin(Entry.RESIDENT_LINK)
    for digit in "1201":
        app.act(Action.RESIDENT_LINK_KEY, digit)
    app.act(Action.RESIDENT_LINK_SELECT, "phone")
    app.act(Action.RESIDENT_LINK_SEND)  # 3 digits short: the error slot is filled


SCREENS = {
    "home": lambda app: None,
    "help": _help,
    "visitor_privacy": lambda app: _visitor_to(app, Action.VISITOR_SHOW_PRIVACY),
    "visitor_phone": _phone_error,
    "visitor_returning": _returning,
    "visitor_returning+no_last_unit": lambda app: _returning(app, last_unit=None),
    "visitor_name": _name,
    "visitor_unit": _unit,
    "visitor_purpose": _purpose,
    "visitor_outcome": _outcome,
    "visitor_sign_out": _sign_out,
    "visitor_sign_out+failed": _sign_out_failed,
    "parcel_pickup": _parcel,
    "parcel_pickup+wrong_code": _parcel_wrong_code,
    "repair_sos": lambda app: app.begin(Entry.SOS),
    "repair_unit": lambda app: _repair_to(app, "unit"),
    "repair_category": lambda app: _repair_to(app, "category"),
    "repair_problem": lambda app: _repair_to(app, "problem"),
    "repair_urgency": lambda app: _repair_to(app, "urgency"),
    "repair_details": lambda app: _repair_to(app, "details"),
    "repair_done": lambda app: _repair_to(app, "done"),
    "repair_emergency": lambda app: _repair_to(app, "emergency"),
    "ticket_status": _ticket_entry,
    "ticket_status_result": _ticket_found,
    "ticket_status_result+low_rating": _ticket_low_rating,
    "ticket_status_thanks": _ticket_thanks,
    "invitation_confirm": lambda app: _invitation(app, iv.CONFIRM, party_size=3, **_GREETING),
    "invitation_confirm+offline": lambda app: _invitation(app, iv.CONFIRM, offline=True),
    "invitation_result": lambda app: _invitation(
        app, iv.SIGNED_IN, unit="1201", pass_token="v" * 120
    ),
    "invitation_result+recorded": lambda app: _invitation(app, iv.RECORDED),
    "invitation_result+refused": lambda app: _invitation(
        app, iv.REFUSED, refusal="pass_other_building"
    ),
    "resident_link": _resident_link,
    "resident_link+done": lambda app: (_resident_link(app), _rlink_done(app)),
}


def _rlink_done(app):
    app.resident_link.state = "done"
    app.show(FlowName.RESIDENT_LINK)


def visit_screen(app, name, language):
    """From home to screen `name` (a state after "+") in `language`, as a person would
    leave it: one kiosk walks every screen, since starting one per screen (~150 starts)
    cost most of the audit's time."""
    app.go_home()
    app.help_call.reset()  # a call from the help screen must not follow the next screen
    app.show_countdown(None)
    if app.language != language:
        app.toggle_language()
    SCREENS[name](app)
    step(3)
    screen_name = name.split("+")[0]  # "parcel_pickup+wrong_code": a state of one screen
    assert app.root.current == screen_name, f"{name}: the driver reached {app.root.current}"
    return app.root.get_screen(screen_name)


# -- reading the widget tree ---------------------------------------------------------
def visible_widgets(root):
    """Widgets drawn on screen: a hidden (opacity 0) widget hides its children too."""
    stack = [root]
    while stack:
        widget = stack.pop()
        if widget.opacity <= 0 or widget.width <= 0 or widget.height <= 0:
            continue
        yield widget
        stack.extend(widget.children)


def window_box(widget):
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def overlap(a, b) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > SLACK and min(a[3], b[3]) - max(a[1], b[1]) > SLACK


def is_tappable(widget) -> bool:
    return isinstance(widget, ButtonBehavior | TextInput) and not widget.disabled


def inside(widget, ancestor) -> bool:
    while widget is not None:
        if widget is ancestor:
            return True
        widget = widget.parent if widget.parent is not widget else None
    return False


def rendered_size(label) -> tuple[float, float]:
    """The text's size when nothing cuts it: re-rendered with no height limit."""
    options = {name: getattr(label, name) for name in label._font_properties}
    width = label.text_size[0]
    options["text_size"] = (width, None)
    options["max_lines"] = 0
    options["shorten"] = False
    options.pop("text")
    core = (MarkupLabel if label.markup else CoreLabel)(
        text=label._label.text or label.text, **options
    )
    core.refresh()
    return core.content_width if hasattr(core, "content_width") else core.width, core.height


def clipped(label) -> bool:
    if not label.text.strip() or label.shorten or label.max_lines:
        return False
    width, height = rendered_size(label)
    return width > label.width + SLACK or height > label.height + SLACK


def problems_on(screen, window) -> list[str]:
    found = []
    bar = screen.ids.top_bar.__self__  # (ids are weak proxies: `is` needs the widget)
    header = screen.ids.get("header")
    header = header.__self__ if header is not None else None
    bar_box = window_box(bar)
    header_box = window_box(header) if header is not None else None
    widgets = list(visible_widgets(screen))
    leaves = [w for w in widgets if not w.children or is_tappable(w)]
    for widget in leaves:
        box = window_box(widget)
        name = f"{type(widget).__name__}({str(getattr(widget, 'text', ''))[:24]!r})"
        if box[0] < -SLACK or box[1] < -SLACK or box[2] > window.width + SLACK:
            found.append(f"{name} outside the screen: {box}")
        elif box[3] > window.height + SLACK:
            found.append(f"{name} outside the screen: {box}")
        if not inside(widget, bar) and overlap(box, bar_box):
            found.append(f"{name} over the top bar")
        if header_box and not inside(widget, header) and overlap(box, header_box):
            found.append(f"{name} over the header")
    taps = [w for w in widgets if is_tappable(w)]
    for i, a in enumerate(taps):
        if min(a.width, a.height) < theme.MIN_TARGET - SLACK:
            found.append(f"{type(a).__name__}({str(getattr(a, 'text', ''))[:20]!r}) is {a.size}")
        for b in taps[i + 1 :]:
            if not inside(a, b) and not inside(b, a) and overlap(window_box(a), window_box(b)):
                found.append(
                    f"{getattr(a, 'text', a)!r:.30} overlaps {getattr(b, 'text', b)!r:.30}"
                )
    for label in (w for w in widgets if isinstance(w, Label)):
        if clipped(label):
            found.append(f"text cut: {label.text[:30]!r} in {label.size}")
    return found


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_every_screen_fits_and_back_stays_in_one_place(start_kiosk, window, orientation, language):
    app = start_kiosk(orientation=orientation)
    (SCREENSHOTS / "layout").mkdir(parents=True, exist_ok=True)
    found, back_places = [], {}
    for name in SCREENS:
        screen = visit_screen(app, name, language)
        screenshot(f"layout/{name}_{orientation}_{language}.png")
        found += [f"{name}: {problem}" for problem in problems_on(screen, window)]
        back = screen.ids.get("back") or screen.ids.get("done")  # Back, or Done at the end
        if back is not None and back.opacity > 0:
            back_places[name] = tuple(round(v) for v in window_box(back))
    assert not found, "\n".join(found)
    assert len(set(back_places.values())) == 1, back_places


def test_a_wrong_code_does_not_move_the_keypad(start_kiosk):
    app = start_kiosk()
    _visitor_to(app, Action.VISITOR_AGREE)
    phone = app.root.get_screen("visitor_phone")
    step(2)
    before = window_box(phone.ids.keypad.keys["5"])
    for digit in "12345":
        tap(phone.ids.keypad.keys[digit])
    tap(phone.ids.next)
    assert phone.ids.error.text
    step(2)
    assert window_box(phone.ids.keypad.keys["5"]) == before


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_the_idle_countdown_leaves_the_navbar_free(start_kiosk, window, orientation, language):
    """The last 10 s: the bar with "More time" sits above the NavBar, so Back, Done and
    the primary button stay where the finger expects them, and fits the screen."""
    app = start_kiosk(orientation=orientation)
    # The bar is placed by hand here, so the idle tick (which would hide it: the frozen
    # clock is nowhere near the reset) is stopped; when it shows is test_idle_reset's.
    app._tick_event.cancel()
    (SCREENSHOTS / "layout").mkdir(parents=True, exist_ok=True)
    for name in ("visitor_outcome", "visitor_phone", "repair_sos"):
        screen = visit_screen(app, name, language)
        app.show_countdown(8)
        step(3)
        bar = app.countdown
        assert bar.parent is window, name
        screenshot(f"layout/{name}+countdown_{orientation}_{language}.png")
        nav = next(w for w in screen.walk() if isinstance(w, NavBar))
        buttons = [w for w in visible_widgets(nav) if is_tappable(w)]
        assert buttons, f"{name}: no button in the NavBar"
        for button in buttons:
            assert not overlap(window_box(bar), window_box(button)), (name, button.text)
        bar_box = window_box(bar)
        assert bar_box[0] >= -SLACK and bar_box[2] <= window.width + SLACK, name
        assert bar.ids.more_time.height >= theme.MIN_TARGET, name
        for label in (w for w in visible_widgets(bar) if isinstance(w, Label)):
            assert not clipped(label), (name, label.text)
