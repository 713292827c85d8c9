"""LobbyKioskApp: wires the view-models, the outbox and the SyncWorker to Kivy.

Behaviour lives in the view-models (kiosk/viewmodels), I/O in SyncWorker's
threads; this class only moves worker callbacks onto the main thread and
copies view-model state into widgets.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.config import Config
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import store as keys
from kiosk import theme
from kiosk.client import ConsoleClient
from kiosk.config import KioskSettings
from kiosk.fonts import register_default_font
from kiosk.outbox import Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from kiosk.viewmodels.help_call import HelpCallViewModel
from kiosk.viewmodels.session import KioskSession
from shared import i18n
from shared.clock import SystemClock

log = logging.getLogger(__name__)

HOME = "home"
HELP = "help"
COMING_SOON = "coming_soon"
SERVICES = {"visitor": "home.visitor", "parcel": "home.parcel", "repair": "home.repair"}


class LobbyKioskApp(App):
    title = "Lobby Desk"
    language = StringProperty(i18n.DEFAULT_LANGUAGE)
    online = BooleanProperty(False)
    authorised = BooleanProperty(True)
    building_name = StringProperty("")
    building_name_en = StringProperty("")

    def __init__(
        self,
        settings: KioskSettings,
        store: KioskStore,
        client_factory: Callable[[str, str | None], ConsoleClient] = ConsoleClient,
        clock=None,
        start_sync: bool = True,
        sync_options: dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.settings = settings
        self.store = store
        self.client_factory = client_factory
        self.clock = clock or SystemClock()
        self.start_sync = start_sync
        self.sync_options = sync_options or {}
        self.session = KioskSession(self.clock, settings.idle_seconds)
        self.help_call = HelpCallViewModel(self.clock)
        self.outbox = Outbox(store)
        self.worker: SyncWorker | None = None
        self._tick_event = None

    # -- Kivy life cycle -------------------------------------------------
    def get_application_config(self, defaultpath="%(appdir)s/%(appname)s.ini"):
        return str(self.settings.data_dir / "kiosk.ini")

    def build(self):
        from kivy.core.window import Window  # creating the window: not at import

        register_default_font(self.settings.font_path)
        Config.set("kivy", "exit_on_escape", "0")
        from kiosk.screens.coming_soon import ComingSoonScreen
        from kiosk.screens.help import HelpScreen
        from kiosk.screens.home import HomeScreen

        Window.size = self.settings.size
        Window.clearcolor = theme.BACKGROUND
        self.building_name = self.store.get(keys.BUILDING_NAME, "") or ""
        self.building_name_en = self.store.get(keys.BUILDING_NAME_EN, "") or ""
        manager = ScreenManager(transition=NoTransition())
        manager.add_widget(HomeScreen(name=HOME))
        manager.add_widget(HelpScreen(name=HELP))
        manager.add_widget(ComingSoonScreen(name=COMING_SOON))
        return manager

    def on_start(self):
        from kivy.core.window import Window

        Window.bind(on_touch_down=self._on_any_touch)
        self._tick_event = Clock.schedule_interval(self._tick, 1.0)
        self.session.touched()
        if self.start_sync:
            self.start_sync_worker()

    def on_stop(self):
        from kivy.core.window import Window

        Window.unbind(on_touch_down=self._on_any_touch)
        if self._tick_event is not None:
            self._tick_event.cancel()
            self._tick_event = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def open_settings(self, *largs):
        return False  # no Kivy settings panel (F1) on a public kiosk

    def start_sync_worker(self) -> SyncWorker:
        client = self.client_factory(self.settings.console_url, self.store.token)
        self.worker = SyncWorker(
            self.store,
            client,
            clock=self.clock,
            on_online=self._on_main(self.sync_online),
            on_event=self._on_main(self.sync_event),
            on_acked=self._on_main(self.sync_acked),
            on_unauthorised=self._on_main(self.sync_unauthorised),
            on_dead=self._on_main(self.sync_dead),
            **self.sync_options,
        )
        self.worker.start()
        return self.worker

    def _on_main(self, callback):
        """Wrap a worker callback so it runs on Kivy's main thread, and only while
        this app runs (a call queued just before on_stop is dropped)."""

        def run(*args):
            if self.worker is not None:
                callback(*args)

        def schedule(*args):
            Clock.schedule_once(lambda _dt: run(*args), 0)

        return schedule

    # -- text for the .kv files (the language argument makes kv re-bind) ----
    def t(self, key: str, language: str, **values) -> str:
        return i18n.text("kiosk", key, language, **values)

    def secondary(self, key: str, language: str) -> str:
        """The smaller English line under Chinese; nothing when English is primary."""
        return i18n.text("kiosk", key, "en") if language != "en" else ""

    def status_text(self, language: str, online: bool, authorised: bool) -> str:
        key = "status.online" if online else "status.offline"
        if not authorised:
            key = "status.unauthorised"
        return self.t(key, language)

    def building_label(self, language: str, name: str, name_en: str) -> str:
        if language == "en" and name_en:
            return name_en
        return name or name_en or self.t("building.fallback", language)

    # -- user actions (main thread) ----------------------------------------
    @property
    def screens(self) -> ScreenManager:
        return self.root

    def toggle_language(self) -> None:
        self.language = self.session.toggle_language()
        self.refresh_help()

    def go_home(self) -> None:
        if self.help_call.state in ("resolved", "failed"):
            self.help_call.reset()
        self.root.current = HOME

    def open_service(self, service: str) -> None:
        self.root.get_screen(COMING_SOON).service_key = SERVICES[service]
        self.root.current = COMING_SOON

    def call_reception(self, screen: str) -> int | None:
        """Queue one help call; the screen says "saved" only after the commit."""
        order = self.help_call.start(self.language, screen)
        self.root.current = HELP
        if order is None:  # a call is already under way: show it, queue nothing
            self.refresh_help()
            return None
        self.refresh_help()
        try:
            outbox_id = self.outbox.enqueue(
                order["kind"], order["path"], order["body"], order["method"]
            )
        except sqlite3.Error:
            log.exception("could not save the help call")
            self.help_call.on_save_failed()
            self.refresh_help()
            return None
        self.help_call.on_saved(outbox_id)
        self.refresh_help()
        if self.worker is not None:
            self.worker.wake()
        return outbox_id

    def reset_to_home(self) -> None:
        """Idle: the next person gets a fresh kiosk (SECURITY 24)."""
        self.help_call.reset()
        self.session.reset(self.clock.now())
        self.language = self.session.language
        self.root.current = HOME
        self.refresh_help()

    # -- worker callbacks, already on the main thread ----------------------
    # (not named on_<x>: Kivy would bind on_online to the `online` property)
    def sync_online(self, online: bool) -> None:
        self.online = online
        if online:
            self.authorised = True
        self.help_call.on_online(online)
        self.refresh_help()

    def sync_unauthorised(self) -> None:
        self.authorised = False
        self.online = False
        self.help_call.on_online(False)
        self.refresh_help()

    def sync_acked(self, outbox_id: int, kind: str, response: dict | None) -> None:
        if self.help_call.on_acked(outbox_id, response):
            self.refresh_help()

    def sync_dead(self, outbox_id: int, kind: str, error: str) -> None:
        if self.help_call.on_dead(outbox_id):
            self.refresh_help()

    def sync_event(self, event: dict) -> None:
        if self.help_call.on_feed_event(event):
            self.refresh_help()

    # -- timers ------------------------------------------------------------
    def _on_any_touch(self, window, touch) -> bool:
        self.session.touched(self.clock.now())
        return False  # let the touch reach the widgets

    def _tick(self, _dt=None) -> None:
        now = self.clock.now()
        if self.session.is_idle(now) and self._has_something_to_forget():
            self.reset_to_home()
        elif self.root is not None and self.root.current == HELP:
            self.refresh_help()

    def _has_something_to_forget(self) -> bool:
        return (
            self.root.current != HOME
            or self.language != i18n.DEFAULT_LANGUAGE
            or self.help_call.state != "idle"
        )

    def refresh_help(self) -> None:
        if self.root is not None:
            self.root.get_screen(HELP).show(self.session, self.help_call, self.clock.now())
