"""Phones on kiosk screens read in the usual 3-4-4 groups (138 1234 5678)."""

from __future__ import annotations

import pytest

from shared import phones


@pytest.mark.parametrize(
    ("shown", "grouped"),
    [
        ("13812345678", "138 1234 5678"),
        ("138****5678", "138 **** 5678"),  # masked (SECURITY.md 24), still grouped
        ("138", "138"),  # while typing: the groups appear as the digits come
        ("13812", "138 12"),
        ("1381234567", "138 1234 567"),
        ("", ""),
    ],
)
def test_a_chinese_mobile_is_grouped_3_4_4(shown, grouped):
    assert phones.grouped(shown) == grouped


@pytest.mark.parametrize("other", ["+44 ******0123", "021-5555 0100", "+8613812345678"])
def test_other_numbers_are_shown_as_they_are(other):
    assert phones.grouped(other) == other


def test_the_masked_kiosk_form_of_a_stored_number_is_grouped():
    assert phones.grouped(phones.mask("+8613812345678")) == "138 **** 5678"
