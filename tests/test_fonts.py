"""The kiosk and the PDFs need one font with Chinese and Latin glyphs."""

import pytest

from shared import fonts


def test_a_debian_machine_with_the_setup_packages_has_a_cjk_font(monkeypatch):
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    assert fonts.find_font().is_file()


def test_a_configured_font_that_does_not_exist_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "missing.ttc"))
    with pytest.raises(fonts.FontNotFound, match="not a file.*fonts-wqy-microhei"):
        fonts.find_font()


def test_no_font_anywhere_says_what_to_install(monkeypatch):
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", ())
    with pytest.raises(fonts.FontNotFound, match="apt-get install fonts-wqy-microhei"):
        fonts.find_font()
