"""LobbyKioskApp: wires the view-models, the outbox and the SyncWorker to Kivy.

Behaviour lives in the view-models (kiosk/viewmodels), I/O in SyncWorker's
threads; this class only moves worker callbacks onto the main thread and
copies view-model state into widgets. Announcements and the emergency
broadcast have their own glue: BroadcastController (kiosk/broadcast_desk.py).
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

from kiosk import heartbeat, icons, theme
from kiosk import store as keys
from kiosk.app_idle import IdleDesk
from kiosk.app_invite import InviteDesk
from kiosk.app_repair import RepairDesk
from kiosk.app_text import KvText
from kiosk.app_withdraw import OutboxWithdrawals
from kiosk.broadcast_desk import BroadcastController
from kiosk.client import RETRYABLE, ConsoleClient, Result
from kiosk.config import KioskSettings
from kiosk.fonts import register_default_font
from kiosk.outbox import Outbox
from kiosk.queries import QueryWorker
from kiosk.refusals import Refusal
from kiosk.screen_names import (
    HELP,
    HOME,
    PARCEL,
    SIGN_OUT,
    VISITOR_SCREENS,
)
from kiosk.storage_desk import StorageDesk
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from kiosk.viewmodels import home as tiles
from kiosk.viewmodels import idle
from kiosk.viewmodels import repair as rep
from kiosk.viewmodels import visitor as visit
from kiosk.viewmodels.effects import Enqueue, Query
from kiosk.viewmodels.help_call import HelpCallViewModel
from kiosk.viewmodels.invitation import InvitationViewModel
from kiosk.viewmodels.parcel import ParcelViewModel
from kiosk.viewmodels.repair import RepairViewModel
from kiosk.viewmodels.resident_link import ResidentLinkViewModel
from kiosk.viewmodels.session import KioskSession
from kiosk.viewmodels.sign_out import SignOutViewModel
from kiosk.viewmodels.ticket_status import TicketStatusViewModel
from kiosk.viewmodels.visitor import VisitorViewModel
from shared import i18n
from shared.clock import SystemClock

log = logging.getLogger(__name__)

_NO_ANSWER = Result(RETRYABLE, message="no query worker")


class LobbyKioskApp(KvText, RepairDesk, InviteDesk, IdleDesk, OutboxWithdrawals, App):
    title = "Lobby Desk"
    language = StringProperty(i18n.DEFAULT_LANGUAGE)
    online = BooleanProperty(False)
    authorised = BooleanProperty(True)
    building_name = StringProperty("")
    building_name_en = StringProperty("")
    kiosk_name = StringProperty("")  # as paired on the console: the help screen's about line
    storage_notice = StringProperty("")  # the storage is full, or was salvaged (StorageDesk)
    storage_notice_en = StringProperty("")

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
        self.help_call = HelpCallViewModel(self.clock)
        self.visitor = VisitorViewModel(self.clock, store.get(keys.VISITOR_SETTINGS))
        self.sign_out = SignOutViewModel()
        self.parcel = ParcelViewModel(self.clock)
        # Every flow gets every worker callback and picks out its own items.
        self.flows = [self.help_call, self.visitor, self.sign_out, self.parcel]
        self.repair = RepairViewModel(self.clock, store.get(rep.SETTINGS_KEY))
        self.ticket_status = TicketStatusViewModel(self.clock)
        self.invitation = InvitationViewModel(self.clock)  # a pass scanned at home
        self.resident_link = ResidentLinkViewModel()
        self.flows += [self.repair, self.ticket_status, self.invitation, self.resident_link]
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
        from kiosk.screens import visitor_screens
        from kiosk.screens.help import HelpScreen
        from kiosk.screens.home import HomeScreen
        from kiosk.screens.parcel_pickup import ParcelPickupScreen
        from kiosk.screens.repair_base import repair_screens

        Window.size = self.settings.size
        Window.clearcolor = theme.BACKGROUND
        self.building_name = self.store.get(keys.BUILDING_NAME, "") or ""
        self.building_name_en = self.store.get(keys.BUILDING_NAME_EN, "") or ""
        self.kiosk_name = self.store.get(keys.KIOSK_NAME, "") or ""
        from kiosk.screens.idle_countdown import IdleCountdown

        self.countdown = IdleCountdown()
        manager = ScreenManager(transition=NoTransition())
        manager.add_widget(HomeScreen(name=HOME))
        manager.add_widget(HelpScreen(name=HELP))
        for name, screen_class in visitor_screens().items():
            manager.add_widget(screen_class(name=name))
        manager.add_widget(ParcelPickupScreen(name=PARCEL))
        for name, screen_class in repair_screens().items():
            manager.add_widget(screen_class(name=name))
        self.add_invite_screens(manager)
        return manager

    def on_start(self):
        from kivy.core.window import Window

        Window.bind(on_touch_down=self._on_any_touch)
        self._tick_event = Clock.schedule_interval(self._tick, 1.0)
        self.session.touched()
        self.withdraw_stale_pickups(starting=True)  # left from before a restart: never sent
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

    def go_home(self) -> None:
        if self.help_call.state in ("resolved", "failed"):
            self.help_call.reset()
        # Leaving a flow abandons it: nothing of it stays behind.
        for flow in self.flows:
            if flow is not self.help_call:
                flow.reset()
        self.withdraw_stale_pickups()
        self.root.current = HOME
        self.refresh()

    def open_service(self, service: str) -> None:
        if service == "visitor":
            self.sign_out.reset()
            self.visitor.begin(self.store.get(keys.VISITOR_SETTINGS))
            self.refresh_visitor_settings()
            self.show_visitor(navigate=True)
            return
        if service == "parcel":
            if not tiles.available(service, self.online):
                return  # the greyed tile already says why; nothing to type in vain
            self.begin_parcel()
            return
        if service == "repair":
            self.begin_repair()
            return
        raise ValueError(f"no such service: {service}")

    # -- the visitor flows (kv calls these with a view-model method's name) ----
    def visit(self, action: str, *args, navigate: bool = True):
        """Run VisitorViewModel.<action>(*args), carry out what it asks, show the result."""
        effect = getattr(self.visitor, action)(*args)
        self._carry_out(self.visitor, effect)
        self.show_visitor(navigate=navigate)
        return effect

    def submit_visit(self):
        return self.visit("submit", self.language)

    def begin_sign_out(self) -> None:
        self.visitor.reset()
        self.sign_out.begin()
        self.show_visitor()
        self.show_sign_out()
        self.root.current = SIGN_OUT

    def sign_out_action(self, action: str, *args):
        """Run SignOutViewModel.<action>(*args): the scanner, the keypad, "sign out"."""
        effect = getattr(self.sign_out, action)(*args)
        self._carry_out(self.sign_out, effect)
        self.show_sign_out()
        return effect

    def finish_sign_out(self) -> None:
        self.sign_out.reset()
        self.show_sign_out()
        self.root.current = HOME

    # -- parcel pickup (kv calls these with a ParcelViewModel method's name) ----
    def begin_parcel(self) -> None:
        self.visitor.reset()
        self.sign_out.reset()
        self.parcel.begin()
        self.show_parcel()
        self.root.current = PARCEL

    def parcel_action(self, action: str, *args):
        """Run ParcelViewModel.<action>(*args): the scanner, the keypad, "pick up"."""
        effect = getattr(self.parcel, action)(*args)
        self._carry_out(self.parcel, effect)
        self.show_parcel()
        return effect

    def finish_parcel(self) -> None:
        self.parcel.reset()
        self.withdraw_stale_pickups()
        self.show_parcel()
        self.root.current = HOME

    def _carry_out(self, flow, effect) -> None:
        if isinstance(effect, Query):
            if self.queries is None:
                getattr(flow, effect.then)(effect.generation, _NO_ANSWER)
                return
            self.queries.submit(
                effect.call, effect.args, lambda result: self._answered(flow, effect, result)
            )
        elif isinstance(effect, Enqueue):
            try:
                outbox_id = self.outbox.enqueue(
                    effect.kind, effect.path, effect.body, effect.method
                )
            except sqlite3.Error:
                log.exception("could not save %s", effect.kind)
                flow.on_save_failed()
                return
            self.storage_desk.wrote()
            flow.on_saved(outbox_id)
            if self.worker is not None:
                self.worker.wake()

    def _answered(self, flow, effect: Query, result) -> None:
        if getattr(flow, effect.then)(effect.generation, result):
            follow_up = getattr(flow, "follow_up", None)  # e.g. "Register" once the unit is in
            if follow_up is not None:
                self._carry_out(flow, follow_up())
            self.refresh()

    def refresh_visitor_settings(self) -> None:
        """Fetch the building's visitor settings; cache them for offline use."""
        if self.queries is not None:
            self.queries.submit("get_settings", (), self._settings_answered)

    def _settings_answered(self, result) -> None:
        if not result.ok or not isinstance(result.body, dict):
            return  # offline: the cached copy (or the defaults) stays
        settings = visit.settings_from(result.body)
        repair_settings = rep.settings_from(result.body)
        # Cached for offline use; on a full disk they still apply until the restart.
        self.storage_desk.save(
            **{keys.VISITOR_SETTINGS: settings, rep.SETTINGS_KEY: repair_settings}
        )
        self.repair.apply_settings(repair_settings)
        self.show_repair()
        self.visitor.apply_settings(settings)
        self.show_visitor()

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
        self.storage_desk.wrote()
        self.help_call.on_saved(outbox_id)
        self.refresh_help()
        if self.worker is not None:
            self.worker.wake()
        return outbox_id

    def reset_to_home(self) -> None:
        """Idle: the next person gets a fresh kiosk (SECURITY.md 24)."""
        for flow in self.flows:
            flow.reset()
        self.withdraw_stale_pickups()
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
        self.withdraw_stale_pickups()
        self.refresh()

    def sync_unauthorised(self) -> None:
        self.authorised = False
        self.online = False
        for flow in self.flows:
            flow.on_online(False)
        self.withdraw_stale_pickups()
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
        self.withdraw_stale_pickups()
        self.withdraw_refused_ratings()
        now = self.clock.now()
        held = any(flow.holds_screen(now) for flow in self.flows)
        news = idle.has_news(self.help_call, self.visitor, self.repair, self.invitation)
        forget = self._has_something_to_forget() and not held
        if self.idle.due(now, news) and forget:
            self.reset_to_home()
            return
        self.show_countdown(self.idle.countdown(now, news) if forget else None)
        if self.root is not None and self.root.current == HELP:
            self.refresh_help()
        elif self.root is not None and self.root.current == VISITOR_SCREENS[visit.OUTCOME]:
            self.show_visitor()
        elif self.root is not None and self.root.current == PARCEL:
            self.show_parcel()

    def refresh(self) -> None:
        """Copy every flow's state into its screens (after a change or a language switch)."""
        self.refresh_help()
        self.show_visitor()
        self.show_sign_out()
        self.show_parcel()
        self.show_repair()
        self.show_ticket_status()
        self.show_invitation()
        self.show_resident_link()

    def refresh_help(self) -> None:
        if self.root is not None:
            self.root.get_screen(HELP).show(self.session, self.help_call, self.clock.now())

    def show_visitor(self, navigate: bool = False) -> None:
        """Show the visitor flow; go to its current step if asked, or if already in it."""
        if self.root is None:
            return
        now = self.clock.now()
        for name in VISITOR_SCREENS.values():
            self.root.get_screen(name).show(self.visitor, self.session, now)
        if navigate or self.root.current in VISITOR_SCREENS.values():
            if self.visitor.step == visit.IDLE:
                self.root.current = HOME
            else:
                self.root.current = VISITOR_SCREENS[self.visitor.step]

    def show_sign_out(self) -> None:
        if self.root is not None:
            self.root.get_screen(SIGN_OUT).show(self.sign_out, self.session, self.clock.now())

    def show_parcel(self) -> None:
        if self.root is not None:
            self.root.get_screen(PARCEL).show(self.parcel, self.session, self.clock.now())
