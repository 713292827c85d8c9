"""shared.text_wrap: Chinese and English lines broken by the usual rules."""

from __future__ import annotations

import pytest

from shared.text_wrap import NO_LINE_END, NO_LINE_START, segments, wrap


def width_in_cells(text: str) -> int:
    """A monospace measure: a Chinese character two cells, anything else one."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def test_a_full_stop_never_starts_a_line():
    # 9 characters of 2 cells in 16: Kivy's own wrap would put 。 first on line two
    lines = wrap("您输入的号码不对。请再试一次。", 16, width_in_cells)
    assert lines == ["您输入的号码不", "对。请再试一次。"]


@pytest.mark.parametrize("width", range(4, 40))
def test_no_line_starts_with_closing_or_ends_with_opening_punctuation(width):
    text = "火警！请勿乘坐电梯，沿楼梯（安全出口）疏散。“保持冷静”，听从工作人员指挥；谢谢。"
    lines = wrap(text, width, width_in_cells)
    assert "".join(lines) == text
    assert all(line[0] not in NO_LINE_START for line in lines[1:])
    assert all(line[-1] not in NO_LINE_END for line in lines)
    assert all(width_in_cells(line) <= max(width, 6) for line in lines)


def test_english_breaks_only_between_words():
    lines = wrap("Fire alarm. Do not use the lifts, walk down the stairs.", 20, len)
    assert lines == ["Fire alarm. Do not", "use the lifts, walk", "down the stairs."]


def test_mixed_text_keeps_latin_words_whole():
    lines = wrap("请输入 11 位手机号，或以 + 开头的国际号码。", 20, width_in_cells)
    assert "".join(lines).replace(" ", "") == "请输入11位手机号，或以+开头的国际号码。"
    assert all(line[0] not in NO_LINE_START for line in lines)
    assert not any(
        line.endswith("1") and nxt.startswith("1") for line, nxt in zip(lines, lines[1:])
    )


def test_newlines_are_kept_and_a_word_wider_than_the_line_is_cut():
    assert wrap("第一行\n第二行", 100, width_in_cells) == ["第一行", "第二行"]
    assert wrap("ABCDEFGHIJ", 4, len) == ["ABCD", "EFGH", "IJ"]


def test_segments_join_back_to_the_text():
    text = "请（在）这里，Tap here。"
    assert "".join(segments(text)) == text
    assert "，" not in [s[0] for s in segments(text)]
