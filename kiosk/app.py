"""LobbyKioskApp: wires the view-models, the outbox and the SyncWorker to Kivy.

Behaviour lives in the view-models (kiosk/viewmodels), I/O in SyncWorker's
threads; this class builds the screens and view-models from the flow registry
(kiosk/flows.py), moves worker callbacks onto the main thread and hands each
flow its news. What screens ask of the flows is dispatched in FlowDesk
(kiosk/app_flows.py). Announcements and the emergency broadcast have their own
glue: BroadcastController (kiosk/broadcast_desk.py).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.config import Config
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import heartbeat, icons, theme
from kiosk import store as keys
from kiosk.app_flows import FlowDesk
from kiosk.app_idle import IdleDesk
from kiosk.app_text import KvText
from kiosk.broadcast_desk import BroadcastController
from kiosk.client import ConsoleClient
from kiosk.config import KioskSettings
from kiosk.flows import FLOWS, all_screens
from kiosk.fonts import register_default_font
from kiosk.outbox import Outbox
from kiosk.queries import QueryWorker
from kiosk.refusals import Refusal
from kiosk.screen_names import HOME
from kiosk.storage_desk import StorageDesk
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from kiosk.viewmodels import idle
from kiosk.viewmodels.session import KioskSession
from shared import i18n
from shared.clock import SystemClock

log = logging.getLogger(__name__)


def _screen_class(path: str):
    """ "kiosk.screens.home:HomeScreen" → the class (importing it loads its .kv)."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


class LobbyKioskApp(KvText, FlowDesk, IdleDesk, App):
    title = "Lobby Desk"
    language = StringProperty(i18n.DEFAULT_LANGUAGE)
    online = BooleanProperty(False)
    authorised = BooleanProperty(True)
    building_name = StringProperty("")
    building_name_en = StringProperty("")
    kiosk_name = StringProperty("")  # as paired on the console: the help screen's about line
    storage_notice = StringProperty("")  # the storage is full, or was salvaged (StorageDesk)
    storage_notice_en = StringProperty("")
    update_needed = BooleanProperty(False)  # the console answered 426: the status line says so

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
        self.idle = idle.IdleTimer(self.session)
        self.countdown = None  # the IdleCountdown bar (built with the window)
        # Every flow's view-model (kiosk/flows.py), also as app.<name>: app.visitor …
        self.models = {name: flow.make(self.clock, store) for name, flow in FLOWS.items()}
        for name, model in self.models.items():
            setattr(self, name.value, model)
        # Every flow gets every worker callback and picks out its own items.
        self.flows = list(self.models.values())
        self.outbox = Outbox(store)
        # Announcements and the emergency broadcast: not a flow (they answer no item).
        self.broadcast_desk = BroadcastController(self, home_screen=HOME)
        self.broadcast = self.broadcast_desk.model
        self.storage_desk = StorageDesk(self)  # its own storage failing or salvaged
        self.worker: SyncWorker | None = None
        self.queries: QueryWorker | None = None
        self._tick_event = None

    @property
    def emergency_overlay(self):
        """The full-screen emergency notice (None until on_start)."""
        return self.broadcast_desk.overlay

    # -- Kivy life cycle -------------------------------------------------
    def get_application_config(self, defaultpath="%(appdir)s/%(appname)s.ini"):
        return str(self.settings.data_dir / "kiosk.ini")

    def build(self):
        from kivy.core.window import Window  # creating the window: not at import

        register_default_font(self.settings.font_path)
        icons.register()  # Font Awesome; without it the repair tiles show text alone
        Config.set("kivy", "exit_on_escape", "0")
        Window.size = self.settings.size
        Window.clearcolor = theme.BACKGROUND
        self.building_name = self.store.get(keys.BUILDING_NAME, "") or ""
        self.building_name_en = self.store.get(keys.BUILDING_NAME_EN, "") or ""
        self.kiosk_name = self.store.get(keys.KIOSK_NAME, "") or ""
        from kiosk.screens.idle_countdown import IdleCountdown

        self.countdown = IdleCountdown()
        manager = ScreenManager(transition=NoTransition())
        for name, path in all_screens():
            manager.add_widget(_screen_class(path)(name=name))
        return manager

    def on_start(self):
        from kivy.core.window import Window

        Window.bind(on_touch_down=self._on_any_touch)
        self._tick_event = Clock.schedule_interval(self._tick, 1.0)
        self.session.touched()
        self.withdraw_from_outbox(starting=True)  # left from before a restart: never sent
        self.queries = QueryWorker.for_console(
            self.settings.console_url, self.store.token, self._deliver_query
        )
        self.queries.start()
        if self.start_sync:
            self.start_sync_worker()
        self.refresh()
        self.broadcast_desk.start()
        self.storage_desk.start()
        self.heartbeat = heartbeat.start(self)  # only under the watchdog (kiosk/watchdog.py)

    def on_stop(self):
        from kivy.core.window import Window

        Window.unbind(on_touch_down=self._on_any_touch)
        self.broadcast_desk.stop()
        self.storage_desk.stop()
        if self._tick_event is not None:
            self._tick_event.cancel()
            self._tick_event = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.queries is not None:
            self.queries.stop()
            self.queries = None

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
            on_update_needed=self._on_main(self.sync_update_needed),
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

    def _deliver_query(self, answer: Callable[[], None]) -> None:
        """From the query thread: run the answer on the main thread while the app runs."""

        def run(_dt):
            if self.queries is not None:
                answer()

        Clock.schedule_once(run, 0)

    # -- user actions (main thread) ----------------------------------------
    @property
    def screens(self) -> ScreenManager:
        return self.root

    def toggle_language(self) -> None:
        self.language = self.session.toggle_language()
        self.refresh()

    def reset_to_home(self) -> None:
        """Idle: the next person gets a fresh kiosk (SECURITY.md 24)."""
        for flow in self.flows:
            flow.reset()
        self.withdraw_from_outbox()
        self.session.reset(self.clock.now())
        self.language = self.session.language
        self.show_countdown(None)
        self.root.current = HOME
        self.refresh()

    # -- worker callbacks, already on the main thread ----------------------
    # (not named on_<x>: Kivy would bind on_online to the `online` property)
    def sync_online(self, online: bool) -> None:
        self.online = online
        if online:
            self.authorised = True
            self.refresh_visitor_settings()
            self.broadcast_desk.refresh()  # (re)connected: an emergency may have started meanwhile
        for flow in self.flows:
            flow.on_online(online)
        self.withdraw_from_outbox()
        self.refresh()

    def sync_unauthorised(self) -> None:
        self.authorised = False
        self.online = False
        for flow in self.flows:
            flow.on_online(False)
        self.withdraw_from_outbox()
        self.refresh()

    def sync_acked(self, outbox_id: int, kind: str, response: dict | None) -> None:
        self.storage_desk.on_acked(outbox_id)
        if any([flow.on_acked(outbox_id, response) for flow in self.flows]):
            self.refresh()

    def sync_dead(self, outbox_id: int, kind: str, refusal: Refusal) -> None:
        if any([flow.on_dead(outbox_id, refusal) for flow in self.flows]):
            self.refresh()

    def sync_event(self, event: dict) -> None:
        if heartbeat.exit_if_asked(self, event):  # staff: exit for maintenance
            return
        if self.broadcast_desk.on_feed_event(event):  # announcements, emergencies
            return
        now = self.clock.now()
        held = any(flow.holds_screen(now) for flow in self.flows)
        if any([flow.on_feed_event(event) for flow in self.flows]):
            if held:  # the awaited answer: give the person a full idle period to read it
                self.session.touched(now)
            self.refresh()

    # -- timers ------------------------------------------------------------
    def _on_any_touch(self, window, touch) -> bool:
        self.session.touched(self.clock.now())
        return False  # let the touch reach the widgets

    def _tick(self, _dt=None) -> None:
        self.withdraw_from_outbox()
        self.withdraw_refused_ratings()
        now = self.clock.now()
        held = any(flow.holds_screen(now) for flow in self.flows)
        news = idle.has_news(self.help_call, self.visitor, self.repair, self.invitation)
        forget = self._has_something_to_forget() and not held
        if self.idle.due(now, news) and forget:
            self.reset_to_home()
            return
        self.show_countdown(self.idle.countdown(now, news) if forget else None)
        self.show_live_screen()

    # -- the sync worker's "update needed" (already on the main thread) ------
    def sync_update_needed(self, needed: bool) -> None:
        self.update_needed = needed
