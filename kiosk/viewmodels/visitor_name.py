"""The name step of visitor registration: a surname from the picker and 先生/女士, or a
typed (Latin) name. A mixin of VisitorViewModel (kiosk/viewmodels/visitor.py)."""

from __future__ import annotations

from kiosk.surnames import MAX_INITIALS, search
from kiosk.viewmodels.visitor_steps import NAME, UNIT
from shared import names

PICKER, TYPED = "picker", "typed"
TITLES = {"mr": "先生", "ms": "女士"}
MAX_FULL_NAME_CHARS = 200  # longer input is cut; names.clean refuses > 40 with a message
SURNAME_SLOTS = 24

_NAME_ERRORS = {
    "Please enter a name.": "visitor.name.error_empty",
    f"A name can have at most {names.MAX_NAME_LENGTH} characters.": "visitor.name.error_long",
    "Please use letters only in the name.": "visitor.name.error_letters",
}


class NameEntry:
    """The name step; the view-model holds step, surname, title, full_name, initials."""

    def _clear_name(self) -> None:
        self.surname = self.title = self.full_name = self.initials = ""
        self.name = None

    def set_name_mode(self, mode: str) -> None:
        if self.step == NAME and mode in (PICKER, TYPED):
            self.name_mode = mode
            self._set_error(None)

    def letter(self, key: str) -> None:
        """A key of the A–Z pad: search initials (picker) or type a Latin name."""
        if self.step != NAME:
            return
        self._set_error(None)
        if self.name_mode == PICKER:
            if key == "back":
                self.initials = self.initials[:-1]
            elif key in ("clear", "space"):
                self.initials = ""
            elif len(key) == 1 and key.isalpha() and len(self.initials) < MAX_INITIALS:
                self.initials += key.lower()
            return
        if key == "back":
            self.full_name = self.full_name[:-1]
        elif key == "clear":
            self.full_name = ""
        elif key == "space":
            if self.full_name and not self.full_name.endswith(" "):
                self.full_name += " "
        elif len(key) == 1 and key.isalpha():
            # Capitalise each word's first letter: "emily carter" → "Emily Carter".
            starts_word = not self.full_name or self.full_name.endswith(" ")
            self.set_full_name(self.full_name + (key.upper() if starts_word else key.lower()))

    @property
    def surname_choices(self) -> list[tuple[str, str]]:
        """(surname, pinyin) for the picker's slots, most common first."""
        return [(s.text, s.pinyin) for s in search(self.initials, SURNAME_SLOTS)]

    def pick_surname(self, surname: str) -> None:
        if self.step == NAME:
            self._set_error(None)
            self.name_mode = PICKER
            self.surname = surname

    def pick_title(self, title: str) -> None:
        if self.step == NAME and title in TITLES:
            self._set_error(None)
            self.title = title

    def pick_title_and_go(self, title: str) -> None:
        """先生 / 女士 after the surname is the last tap of the name: on to the unit."""
        self.pick_title(title)
        if self.step == NAME and self.name_mode == PICKER and self.surname and self.title:
            self.name_next()

    def set_full_name(self, text: str) -> None:
        """Text from the on-screen letters, a hardware keyboard or a system input method."""
        if self.step != NAME or not isinstance(text, str):
            return
        text = text[:MAX_FULL_NAME_CHARS]
        if text != self.full_name:
            self._set_error(None)
            self.full_name = text
        if text:
            self.name_mode = TYPED

    @property
    def name_preview(self) -> str:
        """张先生 (picker) or the typed name, as it will be stored."""
        if self.name_mode == TYPED:
            return self.full_name
        return self.surname + TITLES.get(self.title, "")

    def name_next(self) -> None:
        if self.step != NAME:
            return
        if self.name_mode == PICKER:
            if not self.surname:
                self._set_error("visitor.name.error_surname")
                return
            if not self.title:
                self._set_error("visitor.name.error_title")
                return
        try:
            self.name = names.clean(self.name_preview)
        except names.InvalidName as error:
            self._set_error(_NAME_ERRORS.get(str(error), "visitor.name.error_invalid"))
            return
        self._set_error(None)
        self.step = UNIT
