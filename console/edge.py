"""What a request may carry before any view sees it (docs/SECURITY.md, "Hostile input").

One place for the checks every route needs, so no view can forget one:

- ids in URLs: the `int` route converter is replaced by `IdConverter`, ASCII
  digits 1..2**63-1 (SQLite's integer range); anything else is a plain 404.
- whole-number query arguments (`before`, `after`, `page`): ASCII digits in
  0..2**63-1, or 400.
- JSON bodies, whoever reads them (`request.get_json()` goes through
  `EdgeJSONProvider.loads`): nested at most MAX_JSON_DEPTH deep (checked before
  parsing, so a 1,000-deep body never reaches the recursive parser), valid
  Unicode (a lone surrogate such as "\\ud800" cannot be stored), integers in
  SQLite's range, no NaN or Infinity. A refused body answers 400 with the
  reason in both languages.
"""

from __future__ import annotations

import json
import re

from flask import Request, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from shared.errors import InvalidRequest

MAX_ID = 2**63 - 1  # SQLite's largest integer
MAX_JSON_DEPTH = 32  # a batch of ticket ratings is 5 deep
INTEGER_ARGS = ("before", "after", "page")

_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_DIGITS = re.compile(r"[0-9]{1,19}")


class IdConverter(IntegerConverter):
    """`<int:…>` in every console route: a row id, 1..2**63-1, ASCII digits only.

    Out of range → no match → 404, instead of an OverflowError from SQLite."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


class JSONRefused(ValueError):
    """A JSON body the console will not read; the message is bilingual."""


def _check_depth(text: str) -> None:
    depth = 0
    for match in _TOKENS.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise JSONRefused(
                    f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）· "
                    f"The JSON is nested too deep (at most {MAX_JSON_DEPTH} levels)."
                )
        elif char in "]}":
            depth -= 1


def _integer(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value <= MAX_ID:
        raise JSONRefused(
            "数字超出范围 · A number in the JSON is out of range (at most 19 digits)."
        )
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JSONRefused("数字超出范围 · A number in the JSON is out of range.")
    return value


def _no_constant(name: str):
    raise JSONRefused(f"JSON 中不能有 {name} · {name} is not a JSON number.")


def _check_text(value) -> None:
    """Every string and key encodes as UTF-8 (a lone surrogate does not)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise JSONRefused(
                "文字中有无效字符（单独的代理项）· The text holds an invalid character "
                "(a lone surrogate such as \\ud800)."
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def load(data: str | bytes | bytearray):
    """Parse a request's JSON with the edge's limits; JSONRefused (a ValueError) if not."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRefused("请用 UTF-8 编码 · The JSON must be UTF-8 text.") from None
    else:
        text = data
    _check_depth(text)
    value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_no_constant)
    if _SURROGATE_ESCAPE.search(text) or (isinstance(data, str) and not text.isascii()):
        _check_text(value)
    return value


class EdgeJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        return load(s)


class EdgeRequest(Request):
    def on_json_loading_failed(self, e):
        if isinstance(e, JSONRefused):
            raise InvalidRequest(str(e)) from e
        if e is None:
            raise InvalidRequest("请用 application/json 发送 · Send the body as application/json.")
        raise InvalidRequest("内容不是有效的 JSON · The body is not valid JSON.") from e


def check_integer_args():
    """before_request: whole-number query arguments in SQLite's range, or 400."""
    for name in INTEGER_ARGS:
        for value in request.args.getlist(name):
            if value and not (_DIGITS.fullmatch(value) and int(value) <= MAX_ID):
                raise BadRequest(
                    f"参数 {name} 必须是 0 到 {MAX_ID} 的整数 · "
                    f"{name} must be a whole number from 0 to {MAX_ID}."
                )


def init_app(app) -> None:
    """Call before any blueprint is registered: the converter applies as routes are added."""
    app.url_map.converters["int"] = IdConverter
    app.json = EdgeJSONProvider(app)
    app.request_class = EdgeRequest
    app.before_request(check_integer_args)
