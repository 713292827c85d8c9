"""An invited visitor at the real kiosk window with a real console over HTTP: the pass made
on the console is rendered to its QR PNG, decoded with zxing as a camera would, typed
into home's scanner field as the USB scanner does, and signs the visitor in — online,
and with the console stopped (verified with the stored key, delivered on its return; a
second offline use of a once pass becomes an escalation). And the resident-link request."""

from __future__ import annotations

import io
import json
import socket
from datetime import UTC, datetime

import pytest
from PIL import Image

from console.server import ConsoleServer
from kiosk import pass_keys
from kiosk.backoff import Backoff
from kiosk.pass_reader import decode
from shared import invitations
from shared.clock import FrozenClock, SystemClock
from tests.helpers import add_resident, building_db, make_app
from tests.ui.conftest import pair_over_http, step, tap, wait_until


@pytest.fixture
def kiosk_clock():
    # The pass expires at the building's midnight after its date, as the console's real
    # clock sees it: the kiosk verifies it against the same real time.
    return FrozenClock(datetime.now(UTC).isoformat())


def _invite(app, name="张先生", phone=None) -> str:
    """A once invitation for today, made through the console's domain; its QR, decoded."""
    resident_id = add_resident(app, unit="101", name="王建国", clock=SystemClock())
    db = building_db(app)
    today = invitations.building_today(db, SystemClock())
    fields = {"name": name, "kind": "once", "starts_on": today.isoformat()}
    if phone:
        fields["phone"] = phone
    invitation_id = invitations.create(
        db, SystemClock(), host_resident_id=resident_id, fields=fields, actor="test"
    )
    png = invitations.pass_png(db, app.config["DATA_DIR"], invitation_id)
    db.close()
    [text] = decode(Image.open(io.BytesIO(png)))  # zxing, as from a camera frame
    assert text.startswith("LDI1:")
    return text


def _scan(kiosk, text: str) -> None:
    """The USB scanner: types into home's focused field, then Enter."""
    field = kiosk.root.get_screen("home").ids.scan
    assert wait_until(lambda: field.focus)  # ready for the scanner at home
    field.insert_text(text)
    field.dispatch("on_text_validate")
    step(2)


def _confirm_screen(kiosk):
    return kiosk.root.get_screen("invitation_confirm")


def _result(kiosk):
    return kiosk.root.get_screen("invitation_result")


def _rows(app, sql, args=()):
    db = building_db(app)
    try:
        return [dict(row) for row in db.query(sql, args)]
    finally:
        db.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_invited_visitor_scans_confirms_and_is_signed_in(console, start_kiosk):
    app, server, _staff = console
    kiosk = start_kiosk(
        console_url=server.url, start_sync=True, pairing=pair_over_http(app, server.url)
    )
    assert wait_until(lambda: pass_keys.verifying_key(kiosk.store) is not None)
    text = _invite(app)

    _scan(kiosk, text)
    confirm = _confirm_screen(kiosk)
    assert kiosk.root.current == "invitation_confirm"
    assert wait_until(lambda: confirm.ids.greeting.text == "欢迎 张** · 拜访 101")
    assert confirm.ids.greeting_english.text == "Welcome 张** · visiting 101"
    assert "张先生" not in confirm.ids.greeting.text  # only the masked name reaches the screen

    tap(confirm.ids.confirm)  # the one tap: 确认入场 · Sign in
    result = _result(kiosk)
    assert kiosk.root.current == "invitation_result"
    assert wait_until(lambda: result.ids.status.text == "已签到，欢迎！")
    assert result.ids.status_english.text == "You are signed in. Welcome!"
    assert result.ids.go_to.text == "请前往 101" and result.qr_texture is not None

    [visit] = _rows(app, "SELECT * FROM visits")
    assert visit["status"] == "confirmed" and visit["decision_method"] == "invitation"
    assert visit["invitation_id"] is not None and visit["host_notified_at"]
    notes = _rows(app, "SELECT * FROM notifications WHERE related = ?", (f"visit:{visit['id']}",))
    assert notes and "张先生" in notes[0]["body"]  # the host is told of the arrival

    tap(result.ids.done)  # the second tap, back home for the next person
    assert kiosk.root.current == "home"
    assert kiosk.invitation.scanned_text is None


def test_a_bad_pass_gets_its_own_message_and_call_reception(console, start_kiosk):
    app, server, _staff = console
    kiosk = start_kiosk(
        console_url=server.url, start_sync=True, pairing=pair_over_http(app, server.url)
    )
    assert wait_until(lambda: pass_keys.verifying_key(kiosk.store) is not None)
    text = _invite(app)
    _scan(kiosk, text[:-9])  # read only in part
    result = _result(kiosk)
    assert kiosk.root.current == "invitation_result"
    assert result.ids.status.text == "通行证只读到一部分，请重新扫描"
    assert result.ids.status_english.text == "Only part of the pass was read: scan it again"
    assert result.ids.call.opacity == 1 and not result.ids.call.disabled
    # the console audits it once the queued check reaches it
    assert wait_until(
        lambda: _rows(app, "SELECT 1 FROM audit_log WHERE action = 'invitation.pass_refused'"),
    )
    tap(result.ids.call)
    assert kiosk.root.current == "help"


def test_with_the_console_stopped_the_pass_is_verified_here_and_delivered_later(
    tmp_path, start_kiosk
):
    port = _free_port()
    app = make_app(tmp_path / "console")
    server = ConsoleServer(app, port=port).start_in_background()
    restarted = None
    try:
        kiosk = start_kiosk(
            console_url=server.url,
            start_sync=True,
            pairing=pair_over_http(app, server.url),
            backoff=Backoff(base=0.2, cap=1.0),
        )
        assert wait_until(lambda: pass_keys.verifying_key(kiosk.store) is not None)
        text = _invite(app)
        server.stop()
        assert wait_until(lambda: not kiosk.online)

        for _use in range(2):  # the same once pass, twice while offline
            _scan(kiosk, text)
            confirm = _confirm_screen(kiosk)
            assert confirm.ids.greeting.text == "欢迎，已验证访客码"
            assert confirm.ids.greeting_english.text == "Welcome, your pass is valid"
            tap(confirm.ids.confirm)
            result = _result(kiosk)
            assert result.ids.status.text == "通行证有效，请进"
            assert "恢复后将登记并通知前台" in result.ids.detail.text
            tap(result.ids.done)
            assert kiosk.root.current == "home"
        assert _rows(app, "SELECT * FROM visits") == []

        restarted = ConsoleServer(app, port=port).start_in_background()
        assert wait_until(lambda: len(_rows(app, "SELECT * FROM escalations")) == 1)
        [visit] = _rows(app, "SELECT * FROM visits")
        assert visit["status"] == "confirmed" and visit["invitation_id"] is not None
        [escalation] = _rows(app, "SELECT * FROM escalations")
        assert escalation["screen"] == "invitation_pass" and "离线" in escalation["note"]
        audits = _rows(app, "SELECT detail FROM audit_log WHERE action = 'invitation.redeem'")
        assert json.loads(audits[0]["detail"])["offline"] is True
    finally:
        server.stop() if restarted is None else restarted.stop()


def test_a_resident_asks_for_their_page_link_at_the_kiosk(console, start_kiosk):
    app, server, _staff = console
    add_resident(app, unit="101", name="王建国", phone="+8613812345678", clock=SystemClock())
    kiosk = start_kiosk(
        console_url=server.url, start_sync=True, pairing=pair_over_http(app, server.url)
    )
    home = kiosk.root.get_screen("home")
    tap(home.ids.parcel)
    parcel = kiosk.root.get_screen("parcel_pickup")
    tap(parcel.ids.resident_link)
    screen = kiosk.root.get_screen("resident_link")
    assert kiosk.root.current == "resident_link"
    keypad = screen.ids.keypad
    for digit in "101":
        tap(keypad.keys[digit])
    tap(screen.ids.phone)
    for digit in "5678":
        tap(keypad.keys[digit])
    tap(screen.ids.send)
    assert screen.ids.status.text == "如信息匹配，链接已发送到您的手机/邮箱"
    assert screen.ids.status_english.text == "If the details match, a link has been sent"
    assert wait_until(
        lambda: _rows(app, "SELECT detail FROM audit_log WHERE action = 'resident_link.request'"),
    )
    [row] = _rows(app, "SELECT detail FROM audit_log WHERE action = 'resident_link.request'")
    assert json.loads(row["detail"]) == {"matched": 1, "sent": 1}
    tap(screen.ids.done)
    assert kiosk.root.current == "home"
