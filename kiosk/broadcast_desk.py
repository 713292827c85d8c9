"""BroadcastController: announcements and the emergency broadcast on the kiosk.

The behaviour lives in BroadcastViewModel (kiosk/viewmodels/broadcast.py); this
class is the glue around it: it asks the console through the app's QueryWorker
(never on the UI thread), keeps the answers in the kiosk store, downloads the
notices' pictures, and copies the view-model's state into the home screen's
carousel and the full-screen EmergencyOverlay.

LobbyKioskApp creates one and calls it from its hooks: start (on_start), stop
(on_stop), refresh (sync_online, once back online) and on_feed_event (sync_event).
It reads the app's queries, worker, online and root when it needs them (they come
and go with the app's life cycle), and while an emergency opens or closes it has
the app reset every flow (reset_to_home). Everything runs on Kivy's main thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.clock import Clock

from kiosk.viewmodels import broadcast as bc

if TYPE_CHECKING:
    from kiosk.app import LobbyKioskApp
    from kiosk.screens.emergency import EmergencyOverlay


class BroadcastController:
    def __init__(self, app: LobbyKioskApp, home_screen: str):
        self.app = app
        self.home_screen = home_screen  # the screen with the announcement carousel
        store = app.store
        self.model = bc.BroadcastViewModel(
            app.clock, store.get(bc.CACHE_KEY), store.get(bc.EMERGENCY_KEY), store.token
        )
        self.overlay: EmergencyOverlay | None = None  # created by start()
        self._timers: list = []
        self._asking: dict[str, bool] = {}  # call in flight → asked again meanwhile
        self._pictures_asked: set[str] = set()

    def start(self) -> None:
        """Show what the store kept (an emergency survives a restart), then ask the console."""
        from kiosk.screens.emergency import EmergencyOverlay

        self.overlay = EmergencyOverlay()
        self._timers = [
            Clock.schedule_interval(self._tick, 1.0),
            Clock.schedule_interval(lambda _dt: self.refresh(True), bc.POLL_SECONDS),
        ]
        self.show()
        self.refresh()

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []
        if self.overlay is not None:
            self.overlay.dismiss()

    def refresh(self, polling: bool = False) -> None:
        """Ask for the emergency state and the announcements, off the UI thread."""
        if polling and self.app.worker is not None and not self.app.online:
            return  # offline: sync_online asks the moment the console is back
        self._ask("get_broadcast", self._broadcast_answered)
        self._ask("get_announcements", self._announcements_answered)

    def _ask(self, call: str, then) -> None:
        """One request per call in flight; asked again meanwhile, it is repeated after."""
        queries = self.app.queries
        if queries is None:
            return
        if call in self._asking:
            self._asking[call] = True
            return
        self._asking[call] = False

        def answered(result):
            again = self._asking.pop(call, False)
            then(result)
            if again:
                self._ask(call, then)

        queries.submit(call, (), answered)

    def _broadcast_answered(self, result) -> None:
        if result.ok and self.model.apply_state(result.body):
            self.app.storage_desk.save(**{bc.EMERGENCY_KEY: self.model.emergency_cache()})
            self.show()

    def _announcements_answered(self, result) -> None:
        if not result.ok:
            return  # offline: the cached notices stay
        changed = self.model.apply_announcements(result.body)
        if changed:
            self.app.storage_desk.save(**{bc.CACHE_KEY: self.model.cache()})
        self._fetch_pictures()  # also retries a picture that failed to download
        if changed:
            self.show()

    def _picture(self, key: str | None) -> str:
        path = self.app.settings.data_dir / "announcements" / f"{key}.jpg"
        return str(path) if key and path.is_file() else ""

    def _fetch_pictures(self) -> None:
        """Download pictures not cached yet; forget those no announcement uses."""
        folder = self.app.settings.data_dir / "announcements"
        folder.mkdir(parents=True, exist_ok=True)
        wanted = self.model.images()
        for path in folder.glob("*.jpg"):
            if path.stem not in wanted:
                path.unlink(missing_ok=True)
        for key, announcement_id in wanted.items():
            if self._picture(key) or key in self._pictures_asked or self.app.queries is None:
                continue
            self._pictures_asked.add(key)

            def saved(result, key=key):
                self._pictures_asked.discard(key)
                if result.ok:
                    self.show()

            target = str(folder / f"{key}.jpg")
            self.app.queries.submit("fetch_announcement_image", (announcement_id, target), saved)

    def on_feed_event(self, event: dict) -> bool:
        """A feed event for the broadcast (True) or for the flows (False)."""
        what = self.model.on_feed_event(event)
        if what == bc.ANNOUNCEMENTS:
            self._ask("get_announcements", self._announcements_answered)
        elif what == bc.EMERGENCY:
            self.app.storage_desk.save(**{bc.EMERGENCY_KEY: self.model.emergency_cache()})
            self.show()
        return what != bc.NOTHING

    def show(self) -> None:
        """While an emergency is on it covers every screen and every flow is reset;
        when it ends the kiosk is back home, fresh. Otherwise: the carousel."""
        app, overlay = self.app, self.overlay
        if app.root is None or overlay is None:
            return
        if self.model.in_emergency:
            overlay.show(self.model.emergency)
            if not overlay.is_open:
                app.reset_to_home()
                overlay.open()
        elif overlay.is_open:
            overlay.dismiss()
            app.reset_to_home()
        slide = self.model.slide(app.clock.now())
        app.root.get_screen(self.home_screen).show_announcement(
            slide, self._picture(slide and slide.image)
        )

    def _tick(self, _dt=None) -> None:
        if self.model.tick(self.app.clock.now()):
            self.show()
