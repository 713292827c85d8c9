"""The words the .kv files ask the app for (app.t, app.secondary, the home tiles'
offline words, the building's name, the version line). A mixin of LobbyKioskApp: the
language argument in each call makes kv re-bind when the language changes."""

from __future__ import annotations

from kiosk.viewmodels import home as tiles
from shared import i18n, terms
from shared.version import __version__


class KvText:
    def t(self, key: str, language: str, **values) -> str:
        return i18n.text("kiosk", key, language, **values)

    def term(self, group: str, value: str, language: str) -> str:
        """A domain word (a visit purpose, a ticket status …) from the one catalogue."""
        return terms.term(group, value, language)

    def term_secondary(self, group: str, value: str, language: str) -> str:
        """The domain word's smaller English line under Chinese; nothing in English mode."""
        return terms.term(group, value, "en") if language != "en" else ""

    def secondary(self, key: str, language: str) -> str:
        """The smaller English line under Chinese; nothing when English is primary."""
        return i18n.text("kiosk", key, "en") if language != "en" else ""

    def status_text(self, language: str, online: bool, authorised: bool, update=False) -> str:
        key = "status.online" if online else "status.offline"
        if update:  # the console answers 426: nothing is delivered until one is updated
            key = "status.update_needed"
        if not authorised:
            key = "status.unauthorised"
        return self.t(key, language)

    def tile_available(self, service: str, online: bool) -> bool:
        return tiles.available(service, online)

    def tile_unavailable(self, service: str, language: str, online: bool) -> str:
        """ " · 暂不可用" after the tile's name while it cannot work."""
        if tiles.available(service, online):
            return ""
        return " · " + self.t(tiles.UNAVAILABLE, language)

    def tile_secondary(self, service: str, language: str, online: bool) -> str:
        """The English name; offline, why the tile is greyed (both languages)."""
        reason = tiles.reason_key(service, online)
        if reason is None:
            return self.secondary(tiles.TILE_KEYS[service], language)
        if language == "en":
            return self.t(reason, "en")
        return f"{self.t(reason, language)} · {self.t(tiles.UNAVAILABLE, 'en')}"

    def building_label(self, language: str, name: str, name_en: str) -> str:
        if language == "en" and name_en:
            return name_en
        return name or name_en or self.t("building.fallback", language)

    def about_line(self, language: str, kiosk_name: str) -> str:
        """ "Lobby Desk 0.6.0 · 本终端：大堂 1", small on the help screen, for staff on the
        phone with support (the issue's "about screen"; no extra gesture to find it)."""
        kiosk = kiosk_name or "—"
        return self.t("about.line", language, version=__version__, kiosk=kiosk)
