"""Announcements (S9): managers publish bilingual notices; kiosks show them on the idle screen.

Console and API through the Flask client; the carousel's view-model without a window.
"""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kiosk.viewmodels.broadcast import ROTATE_SECONDS, BroadcastViewModel
from shared import announcements
from shared.clock import FrozenClock, to_iso
from tests.helpers import KioskCaller, StaffBrowser, add_staff, building_db, paired_kiosk

# The test clock: 2026-11-27 09:00 UTC = 17:00 in the building (Asia/Shanghai).
NOTICE = {
    "title_zh": "周五停水通知",
    "title_en": "Water off on Friday",
    "body_zh": "周五 9:00–17:00 全楼停水。",
    "body_en": "No water on Friday, 9:00–17:00.",
    "priority": "5",
    "starts_at": "2026-11-27T18:30",
    "ends_at": "2026-11-29T08:00",
}


@pytest.fixture
def manager(app):
    add_staff(app, username="lijingli", role="manager", display_name="李经理")
    browser = StaffBrowser(app.test_client())
    assert browser.login("lijingli").status_code == 302
    return browser


def upload(manager, path: str, picture: bytes | None = None, **fields):
    """The form as a browser sends it, multipart, built in memory (the test client would
    spool a large body to a temporary file it does not close)."""
    data = {"csrf_token": manager.csrf, **fields}
    if picture is not None:
        data["image"] = FileStorage(io.BytesIO(picture), "poster.png", content_type="image/png")
    boundary, body = encode_multipart(data)
    return manager.client.post(
        path, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def publish(manager, picture: bytes | None = None, **fields):
    return upload(manager, "/announcements/new", picture, **{**NOTICE, **fields})


def rows(app):
    return list(building_db(app).query("SELECT * FROM announcements ORDER BY id"))


def kiosk_list(kiosk):
    return kiosk.client.get("/api/v1/announcements", headers=kiosk.headers(key=False)).json


def events(kiosk):
    answer = kiosk.client.get("/api/v1/feed?after=0&wait=0", headers=kiosk.headers(key=False))
    return [(e["kind"], e["payload"]) for e in answer.json["events"]]


def png(width=800, height=600, colour=(200, 40, 40), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG", **save)
    return out.getvalue()


# -- publishing ---------------------------------------------------------------------


def test_a_manager_publishes_and_times_are_building_time_stored_as_utc(app, manager, kiosk):
    response = publish(manager)
    assert response.status_code == 302 and response.headers["Location"] == "/announcements/"
    [row] = rows(app)
    assert row["starts_at"] == "2026-11-27T10:30:00.000000+00:00"  # 18:30 in Shanghai
    assert row["ends_at"] == "2026-11-29T00:00:00.000000+00:00"
    assert (row["title_zh"], row["title_en"], row["priority"]) == (
        "周五停水通知",
        "Water off on Friday",
        5,
    )
    page = manager.client.get("/announcements/").get_data(as_text=True)
    assert "已发布 · Published: 周五停水通知 · Water off on Friday" in page
    assert "2026-11-27 18:30" in page and "2026-11-29 08:00" in page
    assert "待发布 · Scheduled" in page  # 17:00 now: it starts at 18:30
    form = manager.client.get(f"/announcements/{row['id']}/edit").get_data(as_text=True)
    assert 'value="2026-11-27T18:30"' in form and 'value="2026-11-29T08:00"' in form
    audit = [r["action"] for r in building_db(app).query("SELECT action FROM audit_log")]
    assert "announcement.create" in audit


def test_an_empty_start_means_now_and_the_end_is_optional(app, manager, clock):
    assert publish(manager, starts_at="", ends_at="").status_code == 302
    [row] = rows(app)
    assert row["starts_at"] == to_iso(clock.now()) and row["ends_at"] is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title_zh": " "}, "请填写中文标题 · Give the Chinese title."),
        ({"title_en": ""}, "请填写英文标题 · Give the English title."),
        ({"title_zh": "长" * 41}, "中文标题最多 40 字"),
        ({"body_en": ""}, "内容需中英文都填写 · Write the text in both Chinese and English."),
        ({"body_zh": "字" * 301}, "中文内容最多 300 字"),
        ({"priority": "10"}, "优先级为 0–9"),
        ({"priority": "high"}, "优先级为 0–9"),
        ({"starts_at": "27/11/2026 18:30"}, "时间格式应为 2026-11-27T18:30"),
        ({"ends_at": "2026-11-27T18:00"}, "结束时间须晚于开始时间 · The end must be after the start."),
        ({"starts_at": "2026-11-26T08:00", "ends_at": "2026-11-27T16:00"},
         "结束时间已经过去 · The end time has already passed."),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_message_keeps_what_was_typed_and_stores_nothing(
    app, manager, kiosk, fields, message
):
    response = publish(manager, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="Water off on Friday"' in page or fields.get("title_en") == ""  # kept
    assert rows(app) == []
    assert events(kiosk) == []  # no kiosk was told anything


def test_reception_sees_the_notices_but_only_managers_publish_edit_and_withdraw(
    app, client, manager, reception
):
    publish(manager)
    [row] = rows(app)
    reception_page = reception.client.get("/announcements/")
    assert reception_page.status_code == 200
    text = reception_page.get_data(as_text=True)
    assert "周五停水通知" in text and "新公告 · New notice" not in text
    assert reception.client.get("/announcements/new").status_code == 403
    assert publish(reception).status_code == 403
    assert reception.post(f"/announcements/{row['id']}/withdraw").status_code == 403
    assert len(rows(app)) == 1 and rows(app)[0]["withdrawn_at"] is None


# -- pictures -----------------------------------------------------------------------


def test_a_picture_is_checked_reencoded_without_metadata_and_served_to_kiosks(
    app, manager, kiosk, tmp_path
):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPS: where the photo was taken
    assert publish(manager, png(3200, 1800, exif=exif)).status_code == 302
    [row] = rows(app)
    stored = tmp_path / "announcements" / row["image_path"]
    with Image.open(stored) as picture:
        assert picture.format == "JPEG"
        assert max(picture.size) == announcements.IMAGE_MAX_SIDE  # 3200 → 1600 wide
        assert not picture.getexif() and "exif" not in picture.info
    answer = kiosk_list(kiosk)["announcements"][0]
    assert answer["image"] == stored.stem
    image = kiosk.client.get(
        f"/api/v1/announcements/{row['id']}/image", headers=kiosk.headers(key=False)
    )
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.data == stored.read_bytes()
    anonymous = app.test_client().get(f"/api/v1/announcements/{row['id']}/image")
    assert anonymous.status_code == 401


def test_a_jpeg_loses_its_comment_exif_icc_profile_and_xmp(app, manager, tmp_path):
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # camera make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPS
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SECRETXMP</x:xmpmeta>'
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 200, 30)).save(
        out, format="JPEG", exif=exif, icc_profile=icc, comment=b"SECRETCOMMENT", xmp=xmp
    )
    original = out.getvalue()
    with Image.open(io.BytesIO(original)) as sent:  # the test picture carries all four
        assert {"comment", "exif", "icc_profile", "xmp"} <= set(sent.info)
    assert publish(manager, original).status_code == 302
    [row] = rows(app)
    saved = (tmp_path / "announcements" / row["image_path"]).read_bytes()
    with Image.open(io.BytesIO(saved)) as picture:
        assert picture.format == "JPEG" and picture.size == (300, 200)
        kept = set(picture.info) - {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}
        assert kept == set() and not picture.getexif()
    for secret in (b"SECRETCOMMENT", b"SpyCam", b"SECRETXMP", icc[:64]):
        assert secret not in saved


def test_a_transparent_png_gets_a_white_background(app, manager, tmp_path):
    out = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(out, format="PNG")
    assert publish(manager, out.getvalue()).status_code == 302
    with Image.open(tmp_path / "announcements" / rows(app)[0]["image_path"]) as picture:
        assert picture.convert("RGB").getpixel((20, 20)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (b"%PDF-1.4 not a picture", "无法识别的图片"),
        (png()[:200], "无法识别的图片"),  # truncated
        (png(10_000, 5_000), "图片尺寸过大 · The picture has too many pixels."),
    ],
)
def test_what_is_not_a_usable_picture_is_refused_and_nothing_is_kept(
    app, manager, kiosk, tmp_path, upload, message
):
    response = publish(manager, upload)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert rows(app) == [] and events(kiosk) == []
    folder = tmp_path / "announcements"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_picture_over_the_size_cap_is_refused_with_a_clear_message(app, manager):
    huge = png() + b"\0" * (announcements.IMAGE_MAX_BYTES + 70_000)
    response = publish(manager, huge)
    assert response.status_code == 413
    assert "图片不能超过 5 MB · The picture must be at most 5 MB." in response.get_data(
        as_text=True
    )
    assert rows(app) == []
    just_over = png() + b"\0" * (announcements.IMAGE_MAX_BYTES - len(png()) + 1)
    response = publish(manager, just_over)
    assert response.status_code == 400
    assert "图片不能超过 5 MB" in response.get_data(as_text=True)


def test_a_notice_without_a_picture_has_none_for_kiosks(app, manager, kiosk):
    publish(manager)
    assert kiosk_list(kiosk)["announcements"][0]["image"] is None
    response = kiosk.client.get(
        f"/api/v1/announcements/{rows(app)[0]['id']}/image", headers=kiosk.headers(key=False)
    )
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


# -- editing and withdrawing ----------------------------------------------------------


def test_editing_replaces_or_removes_the_picture_and_tells_every_kiosk(
    app, client, manager, kiosk, tmp_path
):
    second = KioskCaller(client, paired_kiosk(app, name="大堂 B")[1])
    publish(manager, png())
    [row] = rows(app)
    first_picture = tmp_path / "announcements" / row["image_path"]
    edit = {**NOTICE, "title_en": "Water off on Friday (changed)", "priority": "9"}
    response = upload(manager, f"/announcements/{row['id']}/edit", png(colour=(0, 0, 255)), **edit)
    assert response.status_code == 302
    [row] = rows(app)
    assert row["title_en"] == "Water off on Friday (changed)" and row["priority"] == 9
    assert not first_picture.exists()  # the replaced picture is gone
    assert (tmp_path / "announcements" / row["image_path"]).exists()
    manager.post(f"/announcements/{row['id']}/edit", **edit, remove_image="1")
    assert rows(app)[0]["image_path"] is None
    assert list((tmp_path / "announcements").glob("*.jpg")) == []
    for caller in (kiosk, second):
        assert [kind for kind, _ in events(caller)] == ["announcements.changed"] * 3
    assert [p["action"] for _, p in events(kiosk)] == ["create", "update", "update"]


def test_withdrawing_takes_it_off_the_kiosks_and_keeps_the_record(app, manager, kiosk, clock):
    publish(manager, starts_at="")
    [row] = rows(app)
    assert [a["id"] for a in kiosk_list(kiosk)["announcements"]] == [row["id"]]
    assert manager.post(f"/announcements/{row['id']}/withdraw", confirm="yes").status_code == 302
    assert kiosk_list(kiosk)["announcements"] == []
    page = manager.client.get("/announcements/").get_data(as_text=True)
    assert "已撤回 · Withdrawn" in page and "周五停水通知" in page
    assert manager.post(f"/announcements/{row['id']}/withdraw", confirm="yes").status_code == 302
    page = manager.client.get("/announcements/").get_data(as_text=True)
    assert "This announcement was already withdrawn." in page
    edit = manager.post(f"/announcements/{row['id']}/edit", **NOTICE)
    assert edit.status_code == 400 and "This announcement was withdrawn." in edit.get_data(
        as_text=True
    )
    assert [p["action"] for _, p in events(kiosk)] == ["create", "withdraw"]


def test_a_revoked_or_unpaired_kiosk_is_not_told(app, manager, kiosk):
    from shared import kiosks

    db = building_db(app)
    clock = app.extensions["lobbydesk.clock"]
    revoked_id, _token = paired_kiosk(app, name="旧终端")
    kiosks.revoke(db, clock, revoked_id, actor="test")
    unpaired = kiosks.create(db, clock, building_id=1, name="未配对", actor="test")
    publish(manager)
    counts = dict(
        db.execute("SELECT kiosk_id, COUNT(*) FROM kiosk_events GROUP BY kiosk_id").fetchall()
    )
    assert revoked_id not in counts and unpaired["id"] not in counts and len(counts) == 1


# -- what kiosks get ------------------------------------------------------------------


def test_kiosks_get_showing_and_scheduled_notices_highest_priority_first(
    app, manager, kiosk, clock
):
    publish(manager, title_zh="低", title_en="Low", priority="1", starts_at="", ends_at="")
    publish(manager, title_zh="高", title_en="High", priority="8", starts_at="", ends_at="")
    publish(manager, title_zh="高，早开始", title_en="High, started earlier", priority="8",
            starts_at="2026-11-27T16:30", ends_at="")  # fmt: skip
    publish(manager, title_zh="明天", title_en="Tomorrow", priority="3",
            starts_at="2026-11-28T09:00", ends_at="2026-11-28T18:00")  # fmt: skip
    publish(manager, title_zh="快结束", title_en="Ending soon", priority="0",
            starts_at="", ends_at="2026-11-27T17:30")  # fmt: skip
    withdrawn = publish(manager, title_zh="撤回", title_en="Withdrawn", starts_at="", ends_at="")
    assert withdrawn.status_code == 302
    manager.post(f"/announcements/{rows(app)[-1]['id']}/withdraw", confirm="yes")
    answer = kiosk_list(kiosk)
    assert answer["now"] == to_iso(clock.now())
    assert [a["title_en"] for a in answer["announcements"]] == [
        "High", "High, started earlier", "Tomorrow", "Low", "Ending soon"]  # fmt: skip
    tomorrow = answer["announcements"][2]
    assert tomorrow["starts_at"] == "2026-11-28T01:00:00.000000+00:00"
    assert set(tomorrow) == {"id", "title_zh", "title_en", "body_zh", "body_en", "priority",
                             "starts_at", "ends_at", "image"}  # fmt: skip
    page = manager.client.get("/announcements/").get_data(as_text=True)
    # showing first (as the kiosks order them), then scheduled, then ended and withdrawn
    order = re.findall(r"<strong>([^<]+)</strong>", page)
    assert order == ["高", "高，早开始", "低", "快结束", "明天", "撤回"]
    clock.advance(minutes=31)  # 17:31 in the building: "ending soon" has ended
    assert "Ending soon" not in [a["title_en"] for a in kiosk_list(kiosk)["announcements"]]
    manager.login("lijingli")  # (30 minutes idle: signed in again)
    page = manager.client.get("/announcements/").get_data(as_text=True)
    assert re.findall(r"<strong>([^<]+)</strong>", page) == [
        "高", "高，早开始", "低", "明天", "撤回", "快结束"]  # fmt: skip
    assert "已结束 · Ended" in page


def test_the_kiosk_api_needs_the_kiosk_token(app):
    assert app.test_client().get("/api/v1/announcements").status_code == 401


# -- the carousel's view-model (no window) ----------------------------------------------


def _answer(now: str, *items) -> dict:
    return {"now": now, "announcements": list(items)}


def _item(id_, title, priority=0, starts="2026-11-27T08:00:00+00:00", ends=None, image=None):
    return {"id": id_, "title_zh": title, "title_en": title.upper(), "body_zh": "", "body_en": "",
            "priority": priority, "starts_at": starts, "ends_at": ends, "image": image}  # fmt: skip


def test_the_carousel_rotates_every_8_seconds_in_the_consoles_order():
    clock = FrozenClock("2026-11-27T09:00:00+00:00")
    vm = BroadcastViewModel(clock)
    assert vm.slide() is None
    assert vm.apply_announcements(
        _answer("2026-11-27T09:00:00+00:00", _item(2, "b", 5), _item(1, "a", 1))
    )
    first = vm.slide()
    assert (first.title_zh, first.title_en, first.position, first.count) == ("b", "B", 1, 2)
    clock.advance(seconds=ROTATE_SECONDS - 1)
    assert not vm.tick() and vm.slide().title_zh == "b"
    clock.advance(seconds=1)
    assert vm.tick() and vm.slide().title_zh == "a" and vm.slide().position == 2
    clock.advance(seconds=ROTATE_SECONDS)
    assert vm.tick() and vm.slide().title_zh == "b"
    # the same answer again changes nothing; a new list keeps the notice on screen
    assert not vm.apply_announcements(
        _answer("2026-11-27T09:00:16+00:00", _item(2, "b", 5), _item(1, "a", 1))
    )
    vm.apply_announcements(_answer("2026-11-27T09:00:16+00:00", _item(3, "c", 9), _item(2, "b", 5)))
    assert vm.slide().title_zh == "b" and vm.slide().position == 2


def test_the_carousel_follows_the_consoles_clock_and_the_schedule_offline():
    kiosk_clock = FrozenClock("2026-11-26T09:00:00+00:00")  # a day slow
    vm = BroadcastViewModel(kiosk_clock)
    vm.apply_announcements(_answer(
        "2026-11-27T09:00:00+00:00",
        _item(1, "now", starts="2026-11-27T08:00:00+00:00", ends="2026-11-27T09:30:00+00:00"),
        _item(2, "later", starts="2026-11-27T10:00:00+00:00"),
    ))  # fmt: skip
    assert [a["title_zh"] for a in vm.showing()] == ["now"] and vm.slide().title_zh == "now"
    kiosk_clock.advance(minutes=45)  # no console: the kiosk's own clock moves on, corrected
    assert vm.showing() == [] and vm.tick() and vm.slide() is None
    kiosk_clock.advance(minutes=30)
    assert [a["title_zh"] for a in vm.showing()] == ["later"]
    restarted = BroadcastViewModel(kiosk_clock, vm.cache())  # from the kiosk store
    assert [a["title_zh"] for a in restarted.showing()] == ["later"]
    assert restarted.skew == timedelta(days=1)


def test_the_carousel_ignores_what_it_cannot_use():
    vm = BroadcastViewModel(FrozenClock("2026-11-27T09:00:00+00:00"))
    assert not vm.apply_announcements({"announcements": "nope"})
    vm.apply_announcements(_answer(
        "2026-11-27T09:00:00+00:00",
        {"id": "x"}, _item(5, "ok", image="../../etc/passwd"), {"id": 6, "starts_at": "yesterday"},
        _item(7, "long" * 50, image="abc123"),
    ))  # fmt: skip
    assert [a["id"] for a in vm.announcements] == [5, 7]
    assert vm.announcements[0]["image"] is None  # not a cache key: never a path
    assert len(vm.announcements[1]["title_zh"]) == 40
    assert vm.images() == {"abc123": 7}


def test_a_picture_waits_for_the_image_pool_and_a_full_pool_answers_503(app, manager, monkeypatch):
    """Pictures are decoded in the console's small pool: a manager's upload while it is
    full is refused at once (503 + Retry-After), the form kept as typed, nothing stored."""
    app.config.update(IMAGE_WORKERS=1, IMAGE_QUEUE=0)
    busy, release = threading.Event(), threading.Event()
    real_clean = announcements.clean_image

    def held_clean(raw):
        busy.set()
        release.wait(timeout=20)
        return real_clean(raw)

    monkeypatch.setattr(announcements, "clean_image", held_clean)
    first = []
    sender = threading.Thread(target=lambda: first.append(publish(manager, png())))
    sender.start()
    assert busy.wait(timeout=10)
    refused = publish(manager, png(), title_en="Second notice")
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
    page = refused.get_data(as_text=True)
    assert "控制台正在处理其他图片" in page and "busy with other pictures" in page
    assert "Second notice" in page
    release.set()
    sender.join(timeout=30)
    assert first[0].status_code == 302 and len(rows(app)) == 1
