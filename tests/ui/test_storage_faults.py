"""The real kiosk app on a damaged kiosk.db, and on a disk that fills up and frees
again: it never crashes, says what happened in both languages on every screen,
and carries on by itself once writes work again."""

from __future__ import annotations

import os

import pytest
from kivy.app import App

from kiosk.outbox import ACKED, Outbox
from kiosk.store import KioskStore
from kiosk.viewmodels import repair as rep
from shared.clock import SystemClock
from tests.full_disk import FILLER_KIND, FullDisk, track_every_connection
from tests.ui.conftest import pair_over_http, screenshot, step, tap, wait_until
from tests.ui.driving import Taps, screen
from tests.ui.test_visitor_flow import register_new, submit, visits

SALVAGE_ZH = "终端数据已损坏，已恢复 12 条待发送记录"
SALVAGE_EN = "Kiosk storage was damaged: 12 waiting items recovered"
FULL_ZH = "终端存储已满，请联系前台"
FULL_EN = "This kiosk's storage is full: please ask reception"


@pytest.fixture
def kiosk_clock():
    return SystemClock()  # real time: the worker really sends, the probe really ticks


def banner(app):
    return screen(app).ids.top_bar.ids.storage_banner


def damaged_kiosk_db(data_dir, waiting=12):
    """A paired kiosk's file with `waiting` items queued, then its header overwritten."""
    path = data_dir / "kiosk.db"
    store = KioskStore.open(path)
    store.save_pairing({"token": "t" * 43, "kiosk": {"id": 1, "name": "Lobby A"},
                        "building": {"name": "滨江花园", "name_en": "Riverside Gardens"}})  # fmt: skip
    outbox = Outbox(store)
    for _ in range(waiting):
        outbox.enqueue("escalation.help", "/api/v1/escalations", {"kind": "help"})
    store.close()
    with open(path, "r+b") as file:
        file.write(os.urandom(100))


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_a_damaged_kiosk_db_starts_and_says_what_was_salvaged(tmp_path, start_kiosk, orientation):
    damaged_kiosk_db(tmp_path / "kiosk0")
    app = start_kiosk(orientation=orientation, paired=False)  # offline: the alert waits
    assert App.get_running_app() is app and app.root.current == "home"
    assert app.store.token == "t" * 43  # the pairing was salvaged too
    label = banner(app)
    assert wait_until(lambda: label.height > 0)
    assert label.text == f"{SALVAGE_ZH}\n{SALVAGE_EN}"
    screenshot(f"kiosk_storage_salvaged_zh_{orientation}.png")
    tap(screen(app).ids.top_bar.ids.language)
    assert banner(app).text == SALVAGE_EN
    screenshot(f"kiosk_storage_salvaged_en_{orientation}.png")
    assert any(p.name.startswith("kiosk.db.damaged-") for p in (tmp_path / "kiosk0").iterdir())


def test_a_full_disk_never_stops_the_kiosk_and_service_resumes_when_space_returns(
    monkeypatch, tmp_path, console, start_kiosk
):
    app_console, server, _staff = console
    disk = FullDisk(tmp_path / "kiosk0" / "kiosk.db")
    track_every_connection(monkeypatch, disk)  # the sync threads' connections too
    kiosk = start_kiosk(console_url=server.url, start_sync=True,
                        pairing=pair_over_http(app_console, server.url))  # fmt: skip
    disk.track(kiosk.store)
    status = screen(kiosk).ids.top_bar.ids.status_label
    assert wait_until(lambda: status.text == "在线")
    # The first settings this kiosk caches arrive while the disk is full.
    assert wait_until(lambda: kiosk.store.get(rep.SETTINGS_KEY) is not None)
    kiosk.store.db.execute("DELETE FROM kiosk_state WHERE key IN (?, ?)",
                           ("visitor_settings", rep.SETTINGS_KEY))  # fmt: skip
    disk.fill()
    kiosk.refresh_visitor_settings()  # the console answers: store.set meets SQLITE_FULL
    assert wait_until(lambda: banner(kiosk).text == f"{FULL_ZH}\n{FULL_EN}")
    assert App.get_running_app() is kiosk  # still running
    screenshot("kiosk_storage_full_zh_portrait.png")

    taps = Taps()  # a visitor registers: the registration cannot be saved, and is not "saved"
    register_new(kiosk, taps)
    submit(kiosk, taps)
    outcome = screen(kiosk)
    assert outcome.ids.status.text == "抱歉，登记未能保存"
    assert "前台" in outcome.ids.detail.text
    assert banner(kiosk).text == f"{FULL_ZH}\n{FULL_EN}"
    screenshot("kiosk_storage_full_visitor_zh_portrait.png")
    tap(screen(kiosk).ids.top_bar.ids.language)
    assert banner(kiosk).text == FULL_EN
    screenshot("kiosk_storage_full_visitor_en_portrait.png")
    tap(screen(kiosk).ids.top_bar.ids.language)
    assert [i for i in Outbox(kiosk.store).items() if i.kind == "visit.register"] == []
    before = len(visits(app_console))

    disk.lift()  # space returns: the probe's write succeeds, the notice goes
    assert wait_until(lambda: banner(kiosk).text == "")
    kiosk.go_home()
    step(3)  # lay home out again: the notice took room at the top
    register_new(kiosk, taps)
    submit(kiosk, taps)
    assert screen(kiosk).ids.status.text != "抱歉，登记未能保存"
    [item] = [i for i in Outbox(kiosk.store).items() if i.kind == "visit.register"]
    assert wait_until(lambda: Outbox(kiosk.store).get(item.id).state == ACKED)
    assert len(visits(app_console)) == before + 1
    assert not [i for i in Outbox(kiosk.store).items() if i.kind == FILLER_KIND]
