"""The shift handover log: notes, open/done, ending a shift, the next receptionist's
acknowledgement and the banner until then, the manager's log."""

from __future__ import annotations

import html
import json
import re

import pytest

from shared import handover
from shared.errors import StaleState
from tests.helpers import StaffBrowser, add_staff, building_db

BANNER = "交接班记录未阅读 · Handover not yet read"


def _db(app):
    return building_db(app)


def _clock(app):
    return app.extensions["lobbydesk.clock"]


def _signed_in(app, username, role="reception", display_name=None):
    add_staff(app, username=username, role=role, display_name=display_name or username)
    browser = StaffBrowser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def _sign_in_again(app, username):
    """A new shift: the last session has long timed out."""
    browser = StaffBrowser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def _page(browser, path="/handover/") -> str:
    response = browser.client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _text(page: str) -> str:
    """What a person reads: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _textarea(page: str) -> str:
    return html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1))


def _end_shift(browser):
    page = _page(browser)
    previous = re.search(r'name="previous" value="(\d*)"', page).group(1)
    response = browser.post("/handover/end", previous=previous, confirm="yes")
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


# --- the notes themselves (shared/handover.py) ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Write the note first"),
        ("   \n\t ", "Write the note first"),
        ("x" * 1001, "this note has 1001"),
        ("钥匙在抽屉\x07里", "Character 6 is a control character (U+0007)"),
        ("ok\x00", "U+0000"),
        ("房号 \u202e1021", "U+202E"),
        ("房号 \u200f1021", "U+200F"),
        ("١٢\u061c٣", "U+061C"),
        ("第一行\u2028第二行", "U+2028"),
        ("第一段\u2029第二段", "U+2029"),
        ("钥匙\u200b在抽屉", "Character 3 is a control character (U+200B)"),
        ("\ufeff钥匙", "U+FEFF"),
        ("钥匙\ue000", "U+E000"),
        (None, "1-1000 characters"),
    ],
)
def test_a_note_that_is_empty_too_long_or_has_control_characters_is_refused(typed, message):
    with pytest.raises(handover.InvalidNote, match=re.escape(message)):
        handover.clean_text(typed)


def test_a_note_keeps_its_lines_and_may_be_exactly_1000_characters():
    assert handover.clean_text("  第一行\r\n第二行\tB  ") == "第一行\n第二行\tB"
    assert len(handover.clean_text("字" * 1000)) == 1000


def test_a_refused_note_writes_nothing(app):
    db, clock = _db(app), _clock(app)
    with pytest.raises(handover.UnknownNoteUnit, match="没有房号“9999”"):
        handover.add_note(db, clock, staff_id=1, text="送水", unit="9999")
    with pytest.raises(handover.InvalidNote, match="category"):
        handover.add_note(db, clock, staff_id=1, text="送水", category="party")
    assert db["handover_notes"].count == 0
    assert not list(db.query("SELECT * FROM audit_log WHERE action LIKE 'handover.%'"))


def test_ending_a_shift_hands_over_new_notes_and_every_note_still_open(app, clock):
    a = add_staff(app, username="a", display_name="王芳")
    b = add_staff(app, username="b", display_name="李明")
    db = _db(app)
    old_open = handover.add_note(db, clock, staff_id=a, text="2-1203 的钥匙在抽屉", unit="101")
    old_done = handover.add_note(db, clock, staff_id=a, text="电梯年检通知已贴", category="other")
    handover.set_status(db, clock, old_done, "done", staff_id=a)
    first = handover.end_shift(db, clock, staff_id=a, previous_id=None)
    assert [n["id"] for n in handover.get(db, first)["notes"]] == [old_open, old_done]

    clock.advance(hours=8)
    new = handover.add_note(db, clock, staff_id=b, text="快递柜 C 门坏了", category="repair")
    second = handover.end_shift(db, clock, staff_id=b, previous_id=first)
    notes = handover.get(db, second)["notes"]
    # this shift's note first, then the one carried over; the done one stays behind
    assert [(n["id"], n["carried"], n["status_then"]) for n in notes] == [
        (new, 0, "open"),
        (old_open, 1, "open"),
    ]
    assert notes[1]["unit_number"] == "101"


def test_two_people_ending_the_same_shift_hand_over_once(app, clock):
    a = add_staff(app, username="a")
    b = add_staff(app, username="b")
    db = _db(app)
    handover.add_note(db, clock, staff_id=a, text="交接一")
    handover.end_shift(db, clock, staff_id=a, previous_id=None)
    with pytest.raises(StaleState, match="has just ended the shift"):
        handover.end_shift(db, clock, staff_id=b, previous_id=None)
    assert db["handovers"].count == 1


def test_only_receptionists_other_than_the_author_must_acknowledge_the_latest(app, clock):
    a = add_staff(app, username="a")
    b = add_staff(app, username="b")
    c = add_staff(app, username="c")
    boss = add_staff(app, username="boss", role="manager")
    db = _db(app)
    member = {s["id"]: s for s in db.query("SELECT * FROM staff")}
    assert handover.unread_for(db, member[b]) is None  # no handover yet
    first = handover.end_shift(db, clock, staff_id=a, previous_id=None)
    assert handover.unread_for(db, member[a]) is None
    assert handover.unread_for(db, member[boss]) is None
    assert handover.unread_for(db, member[b])["id"] == first
    assert handover.mark_read(db, clock, first, staff_id=b) is True
    assert handover.mark_read(db, clock, first, staff_id=b) is False  # once is recorded
    assert handover.unread_for(db, member[b]) is None
    assert handover.unread_for(db, member[c])["id"] == first  # each receptionist reads it
    with pytest.raises(handover.NotForTheAuthor):
        handover.mark_read(db, clock, first, staff_id=a)
    second = handover.end_shift(db, clock, staff_id=b, previous_id=first)
    assert handover.unread_for(db, member[a])["id"] == second
    assert handover.unread_for(db, member[c])["id"] == second  # only the latest matters
    assert [r["staff_id"] for r in handover.reads(db, first)] == [b]


def test_every_step_is_audited_without_the_note_text(app, clock):
    a = add_staff(app, username="a")
    b = add_staff(app, username="b")
    db = _db(app)
    note = handover.add_note(db, clock, staff_id=a, text="住户张先生的备用钥匙", unit="101")
    handover.set_status(db, clock, note, "done", staff_id=a)
    handover.set_status(db, clock, note, "open", staff_id=a)
    done = handover.end_shift(db, clock, staff_id=a, previous_id=None)
    handover.mark_read(db, clock, done, staff_id=b)
    rows = list(db.query("SELECT * FROM audit_log WHERE action LIKE 'handover.%' ORDER BY id"))
    assert [(r["actor"], r["action"]) for r in rows] == [
        (f"staff:{a}", "handover.note_add"),
        (f"staff:{a}", "handover.note_done"),
        (f"staff:{a}", "handover.note_reopen"),
        (f"staff:{a}", "handover.end_shift"),
        (f"staff:{b}", "handover.read"),
    ]
    assert json.loads(rows[3]["detail"]) == {
        "notes": 1,
        "open": 1,
        "open_items": dict.fromkeys(handover.OPEN_KINDS, 0),  # counts only, never names
    }
    assert not any("张先生" in (r["detail"] or "") for r in rows)


# --- the console ---------------------------------------------------------------------------


def test_a_receptionist_writes_notes_and_sees_them_to_hand_over(app):
    a = _signed_in(app, "a", display_name="王芳")
    response = a.post(
        "/handover/notes", text="1203 业主明早 9 点来取钥匙", category="todo", unit="101"
    )
    assert response.status_code == 302
    a.post("/handover/notes", text="第一行\r\n第二行")
    page = _page(a)
    assert "已记下 · Note added." in page
    rows = re.findall(r'<tr class="note open" data-note-id="(\d+)">(.*?)</tr>', page, re.S)
    assert [row_id for row_id, _ in rows] == ["1", "2"]
    first = _text(rows[0][1])
    assert "11-27 17:00" in first and "王芳" in first and "待办 · To do" in first
    assert "101" in first and "1203 业主明早 9 点来取钥匙" in first
    assert "第一行\n第二行" in rows[1][1]  # the line break is kept (shown with pre-wrap)
    assert "交出以上 2 项（2 项未完成）" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "   "}, "请填写交接内容 · Write the note first."),
        ({"text": "长" * 1001, "unit": "101"}, "最多 1000 字，现在 1001 字"),
        ({"text": "长" * 5000, "category": "todo"}, "this note has 5000"),
        ({"text": "门禁卡\x1b在前台", "category": "visitor"}, "Character 4 is a control character"),
        ({"text": "给 8888 送水", "unit": "8888", "category": "todo"}, "There is no unit “8888”"),
        ({"text": "送水", "category": "party"}, "Pick a category from the list."),
    ],
)
def test_bad_input_gets_a_clear_error_and_keeps_what_was_typed(app, fields, message):
    a = _signed_in(app, "a")
    response = a.post("/handover/notes", **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html.unescape(page)
    assert 'role="alert"' in page
    assert _textarea(page) == fields["text"]
    if fields.get("unit"):
        assert f'name="unit" value="{fields["unit"]}"' in page
    if fields.get("category") in handover.CATEGORIES:
        assert f'<option value="{fields["category"]}" selected>' in page
    assert _db(app)["handover_notes"].count == 0


def test_marking_done_records_who_and_when_and_a_note_can_be_reopened(app, clock):
    a = _signed_in(app, "a", display_name="王芳")
    a.post("/handover/notes", text="快递柜 C 门坏了", category="repair")
    clock.advance(minutes=25)
    assert a.post("/handover/notes/1/done").status_code == 302
    page = _page(a)
    row = re.search(r'<tr class="note done" data-note-id="1">(.*?)</tr>', page, re.S).group(1)
    assert "已完成 · Done" in row and "王芳 11-27 17:25" in _text(row)
    assert "重新打开 · Reopen" in row
    note = handover.get_note(_db(app), 1)
    assert (note["status"], note["done_at"]) == ("done", "2026-11-27T09:25:00.000000+00:00")

    again = a.post("/handover/notes/1/done")  # a second click, say in another tab
    assert again.status_code == 302
    assert "王芳 已标记完成" in _page(a)
    a.post("/handover/notes/1/reopen")
    assert '<tr class="note open" data-note-id="1">' in _page(a)
    assert handover.get_note(_db(app), 1)["done_by"] is None


def test_the_next_receptionist_sees_the_banner_on_every_page_until_acknowledged(app, clock):
    a = _signed_in(app, "a", display_name="王芳")
    a.post("/handover/notes", text="1203 业主明早来取钥匙", category="todo")
    a.post("/handover/notes", text="访客李女士的伞在前台", category="visitor")
    handover_id = _end_shift(a)
    shown = _page(a, f"/handover/{handover_id}")
    assert "尚未有人阅读 · Not read yet" in shown
    assert BANNER not in shown  # the author has nothing to acknowledge

    clock.advance(minutes=5)
    b = _signed_in(app, "b", display_name="李明")
    for path in ("/", "/visitors/", "/visitors/on-site", "/parcels/", "/handover/"):
        page = _page(b, path)
        assert BANNER in page, path
        assert f'href="/handover/{handover_id}"' in page
    assert "王芳 2026-11-27 17:00 交班 · ended the shift" in _text(_page(b))

    page = _page(b, f"/handover/{handover_id}")
    assert BANNER in page and "查看并确认 · Read it" not in page  # no link to this very page
    assert "1203 业主明早来取钥匙" in page and "访客李女士的伞在前台" in page
    assert "已阅 · Read</button>" in page
    response = b.post(f"/handover/{handover_id}/read")
    assert response.headers["Location"] == f"/handover/{handover_id}"
    page = _page(b, f"/handover/{handover_id}")
    assert "已阅 · Marked as read." in page
    assert BANNER not in page and "已阅 · Read</button>" not in page
    for path in ("/", "/visitors/", "/parcels/"):
        assert BANNER not in _page(b, path), path

    # The author sees who read it, and when (the building's time).
    for path in (f"/handover/{handover_id}", "/handover/"):
        assert "已阅 · Read by: 李明 · 11-27 17:05" in _text(_page(a, path)), path


def test_managers_do_not_get_the_banner_but_see_the_full_log_with_filters(app, clock):
    a = _signed_in(app, "a", display_name="王芳")
    b = _signed_in(app, "b", display_name="李明")
    add_staff(app, username="boss", role="manager", display_name="赵经理")
    a.post("/handover/notes", text="周五消防演习", category="other")
    a.post("/handover/notes", text="3 楼灯坏了", category="repair")
    first = _end_shift(a)
    clock.advance(minutes=20)
    assert b.post(f"/handover/{first}/read").status_code == 302
    assert b.post("/handover/notes/2/done").status_code == 302
    clock.advance(days=1)  # 2026-11-28 17:20 in Shanghai
    b = _sign_in_again(app, "b")
    b.post("/handover/notes", text="新的住户入住 2 楼")
    second = _end_shift(b)
    boss = _sign_in_again(app, "boss")

    assert BANNER not in _page(boss, "/")
    assert b.client.get("/handover/log").status_code == 403  # the log is for managers

    everything = _page(boss, "/handover/log")
    entries = re.findall(r'data-handover-id="(\d+)"', everything)
    assert entries == [str(second), str(first)]  # newest first
    text = _text(everything)
    assert "2026-11-27 17:00 王芳 交班" in text
    assert "已阅 · Read by: 李明 · 11-27 17:20" in text
    assert "尚未有人阅读 · Not read yet" in text  # nobody has read the second yet

    day = _text(_page(boss, "/handover/log?from=2026-11-27&to=2026-11-27"))
    assert "周五消防演习" in day and "新的住户入住 2 楼" not in day

    open_only = _page(boss, "/handover/log?status=open")
    assert "3 楼灯坏了" not in open_only  # done since
    assert "周五消防演习" in open_only and "新的住户入住 2 楼" in open_only
    done_only = _page(boss, "/handover/log?status=done")
    assert re.findall(r'data-handover-id="(\d+)"', done_only) == [str(first)]
    assert "3 楼灯坏了" in done_only and "李明 11-27 17:20" in _text(done_only)

    assert boss.client.get("/handover/log?from=27.11.2026").status_code == 400


def test_a_second_end_of_the_same_shift_is_refused_with_a_message(app):
    a = _signed_in(app, "a", display_name="王芳")
    b = _signed_in(app, "b", display_name="李明")
    a.post("/handover/notes", text="交接一")
    stale_form = re.search(r'name="previous" value="(\d*)"', _page(b)).group(1)
    _end_shift(a)
    response = b.post("/handover/end", previous=stale_form, confirm="yes")
    assert response.headers["Location"] == "/handover/"
    assert "王芳 刚刚已交班，请查看后再交班" in _page(b)
    assert _db(app)["handovers"].count == 1


def test_the_author_cannot_acknowledge_their_own_handover(app):
    a = _signed_in(app, "a", display_name="王芳")
    handover_id = _end_shift(a)  # a quiet shift: nothing to hand over
    page = _page(a, f"/handover/{handover_id}")
    assert "没有交接事项 · No notes." in page
    assert "已阅 · Read</button>" not in page
    a.post(f"/handover/{handover_id}/read")
    assert "This is your own handover" in _page(a, f"/handover/{handover_id}")
    assert _db(app)["handover_reads"].count == 0


def test_what_was_typed_is_shown_as_text_and_redirects_stay_on_the_console(app):
    a = _signed_in(app, "a")
    a.post("/handover/notes", text="<script>alert(1)</script>")
    page = _page(a)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    response = a.post("/handover/notes/1/done", back="//evil.example/handover/")
    assert response.headers["Location"] == "/handover/"


@pytest.mark.parametrize(
    "back",
    [
        "/handover/\r\nSet-Cookie: a=b",
        "/handover/\nLocation: https://evil.example/",
        "/handover/\t/evil.example",
        "/handover/ log",
        "/handover/../../admin/",
        "/handover/..",
        "/handover/log\\evil",
    ],
)
def test_a_back_field_that_is_not_a_plain_handover_path_goes_to_the_index(app, back):
    a = _signed_in(app, "a")
    a.post("/handover/notes", text="送水")
    response = a.post("/handover/notes/1/done", back=back)
    assert response.status_code == 302
    assert response.headers["Location"] == "/handover/"
    assert "Set-Cookie" not in response.headers or "a=b" not in response.headers["Set-Cookie"]
    assert _db(app)["handover_notes"].get(1)["status"] == "done"  # the change was kept


def test_a_back_field_to_a_handover_page_is_followed(app):
    a = _signed_in(app, "a")
    a.post("/handover/notes", text="送水")
    response = a.post("/handover/notes/1/done", back="/handover/log?page=2&q=%E9%80%81")
    assert response.headers["Location"] == "/handover/log?page=2&q=%E9%80%81"


def test_an_unknown_handover_is_a_clear_404(app):
    a = _signed_in(app, "a")
    response = a.client.get("/handover/42")
    assert response.status_code == 404
    assert "Handover 42 does not exist" in response.get_data(as_text=True)
