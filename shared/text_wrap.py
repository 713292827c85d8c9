"""Line breaking for mixed Chinese and English text (plain Python, no Kivy).

Kivy breaks a line of Chinese wherever the next character does not fit, so a line
can start with 。or ，. The usual rules (GB/T 15834, kinsoku): no line starts with
closing punctuation, no line ends with opening punctuation; Chinese may break
between any two characters; Latin words break only at spaces.

`wrap(text, width, measure)` returns the lines; `measure(s)` is the width of s in
the font that will draw it (the caller's renderer).
"""

from __future__ import annotations

from collections.abc import Callable

# Never at the start of a line (closing brackets, stops, pauses, marks, suffixes).
NO_LINE_START = set("。，、；：？！）》」』】〕〉〗”’…—～·%‰℃.,;:?!)]}>｝］｠》」」﹂ー々ゝ")
# Never at the end of a line (opening brackets and quotes).
NO_LINE_END = set("（《「『【〔〈〖“‘([{<｛［｟﹁")


def _is_wide(ch: str) -> bool:
    """A character that may break on either side (CJK ideographs, kana, full-width)."""
    code = ord(ch)
    return 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def _may_break(before: str, after: str) -> bool:
    """A break allowed between these two characters."""
    if after in NO_LINE_START or before in NO_LINE_END:
        return False
    if before == " ":
        return True
    if after == " ":
        return False  # the space stays on this line (stripped at the line's end)
    return _is_wide(before) or _is_wide(after)


def segments(text: str) -> list[str]:
    """The text cut at every allowed break; joined back they are the text."""
    if not text:
        return []
    parts, start = [], 0
    for i in range(1, len(text)):
        if _may_break(text[i - 1], text[i]):
            parts.append(text[start:i])
            start = i
    parts.append(text[start:])
    return parts


def _split_long(part: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """A segment wider than the line (a long number or word): cut by characters."""
    pieces, current = [], ""
    for ch in part:
        if current and measure(current + ch) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    return [*pieces, current] if current else pieces


def _wrap_paragraph(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    lines: list[str] = []
    line = ""
    for part in segments(text):
        candidate = line + part
        if not line or measure(candidate.rstrip()) <= width:
            line = candidate
            continue
        lines.append(line.rstrip())
        line = part.lstrip()
    if line or not lines:
        lines.append(line.rstrip())
    out: list[str] = []
    for each in lines:
        # a character with its punctuation may stick out (hanging punctuation);
        # only a Latin word or number longer than the line is cut
        too_long = measure(each) > width and not any(_is_wide(ch) for ch in each)
        out += _split_long(each, width, measure) if too_long else [each]
    return out


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """The lines of `text` no wider than `width` (except an unbreakable character),
    broken by the rules above; existing newlines are kept."""
    if width <= 0:
        return text.split("\n")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += _wrap_paragraph(paragraph, width, measure)
    return lines
