"""The two roster file formats (residents, units): their columns, headers matched
in Chinese or English (or both, as our own export writes them: "房号 Unit"), the
words a cell may hold, dates as people type them, and the file limits.

Everything that goes wrong with a file is a `Problem` on row 0 (the whole file)
or row 1 (the header); cell problems carry their row number as the file shows
it, the header being row 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 40
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # as console/exports.py neutralises
_SEPARATORS = set(" \t\u3000·・•/\\|()（）[]【】:：_-—*.,，、'\"#№")


@dataclass
class Problem:
    """Something wrong in a file: its row (0 = the whole file, 1 = the header), the
    column key it is about ("" for the whole row), a bilingual message, and whether
    it stops the import ("error") or is only worth knowing ("warning")."""

    row: int
    field: str
    message: str
    level: str = "error"


class FileRefused(Exception):
    """The file cannot be read at all; the message says why, in both languages."""


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        return f"{self.zh} {self.en}"


@dataclass
class Table:
    """A file read against a set of columns: rows as {column key: text}."""

    keys: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    header_row: int = 1

    @property
    def refused(self) -> bool:
        """The file or its header is wrong: its rows cannot be read as meant."""
        return any(p.row in (0, self.header_row) and p.level == "error" for p in self.problems)


def norm(text: str) -> str:
    """A header or a word as matched: case-folded, without spaces or punctuation."""
    return "".join(ch for ch in str(text).casefold() if ch not in _SEPARATORS)


def header_names(columns: tuple[Column, ...]) -> dict[str, str]:
    """Every accepted header → its column key: each name alone, and any two names of
    the same column together ("房号 Unit", "Unit/房号", "房间号（Unit）")."""
    names: dict[str, str] = {}
    for column in columns:
        own = {norm(n) for n in (column.zh, column.en, column.key, *column.aliases)}
        for first in own:
            names[first] = column.key
            for second in own:
                names[first + second] = column.key
    return names


# --- the two file formats ----------------------------------------------------------------

RESIDENT_COLUMNS = (
    Column("unit", "房号", "Unit", ("房间号", "房屋编号", "门牌号", "户号", "unitno", "unitnumber",
                                   "apartment", "apt", "flat", "room")),
    Column("name", "姓名", "Name", ("名字", "住户姓名", "业主姓名", "fullname", "residentname")),
    Column("role", "身份", "Role", ("住户身份", "住户类型", "类型", "角色", "关系", "type",
                                   "relation")),
    Column("phone", "手机", "Phone", ("手机号", "手机号码", "电话", "联系电话", "电话号码",
                                     "mobile", "mobilephone", "cellphone", "tel", "telephone",
                                     "phonenumber")),
    Column("alt_phone", "备用电话", "Alt phone", ("备用手机", "其他电话", "第二电话",
                                                "alternatephone", "otherphone", "phone2",
                                                "secondphone")),
    Column("email", "邮箱", "Email", ("电子邮箱", "电子邮件", "邮件", "mail", "emailaddress")),
    Column("language", "语言", "Language", ("通知语言", "lang")),
    Column("moved_in_on", "入住日期", "Move-in date", ("入住时间", "入住", "movein", "movedin",
                                                     "movedinon")),
    Column("notify_url", "通知地址", "Notify URL", ("通知渠道", "通知方式", "推送地址", "notify",
                                                  "notificationurl", "appriseurl", "channels")),
    Column("consent", "同意通知", "Consent", ("同意", "通知同意", "是否同意通知", "consented",
                                             "consentat", "agreed")),
    Column("moved_out_on", "迁出日期", "Move-out date", ("迁出时间", "迁出", "搬出日期", "moveout",
                                                       "movedout", "movedouton")),
)  # fmt: skip
UNIT_COLUMNS = (
    Column("number", "房号", "Unit", ("门牌号", "户号", "unitlabel", "label", "unitno",
                                     "unitnumber")),
    Column("tower", "楼栋", "Tower", ("楼号", "栋", "座", "楼座", "block", "building")),
    Column("entrance", "单元", "Entrance", ("单元号", "门洞")),
    Column("floor", "楼层", "Floor", ("层", "level")),
    Column("room", "房间", "Room", ("房间号", "室", "roomno", "roomnumber")),
    Column("kind", "类型", "Kind", ("房屋类型", "用途", "type")),
    Column("keypad", "门牌码", "Keypad code", ("键盘码", "数字码", "keypad", "code")),
)  # fmt: skip


def _words(table: dict) -> dict:
    """Every accepted spelling of each value → the value, any two together too."""
    lookup = {}
    for key, names in table.items():
        own = [norm(n) for n in names]
        lookup.update({a: key for a in own})
        lookup.update({a + b: key for a in own for b in own})
    return lookup


ROLE_WORDS = _words(
    {
        "owner": ("业主", "房主", "产权人", "owner"),
        "tenant": ("租户", "租客", "承租人", "tenant", "renter"),
        "household": ("家庭成员", "家属", "成员", "同住人", "household", "family", "member"),
    }
)
LANGUAGE_WORDS = _words(
    {
        "zh_CN": ("中文", "汉语", "简体中文", "普通话", "chinese", "zh", "zhcn", "cn"),
        "en": ("英文", "英语", "english", "en", "enus", "engb"),
    }
)
KIND_WORDS = _words(
    {
        "home": ("住宅", "住家", "居住", "home", "residential"),
        "shop": ("商铺", "商业", "店铺", "门面", "shop", "retail", "store"),
        "office": ("办公", "办公室", "写字楼", "office"),
    }
)
YES_NO_WORDS = _words(
    {
        True: ("是", "同意", "已同意", "yes", "y", "1", "true", "ok", "√", "✓", "✔"),
        False: ("否", "不同意", "未同意", "no", "n", "0", "false", "×", "✗"),
    }
)
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$"
)


def word(text: str, lookup: dict):
    """The key a typed word stands for ("业主", "Owner", "业主 Owner" → "owner"), or
    None when it is none of them."""
    return lookup.get(norm(text))


def parse_moment(text: str) -> tuple[date, tuple[int, int, int] | None] | None:
    """A date as people type it (2026-03-01, 2026/3/1, 2026年3月1日), with the time
    when one follows (2026/3/1 14:30); None when it is not one."""
    found = _DATE.match(text.strip())
    if not found:
        return None
    year, month, day, hour, minute, second = found.groups()
    try:
        day_of = date(int(year), int(month), int(day))
    except ValueError:
        return None
    if hour is None:
        return day_of, None
    clock = (int(hour), int(minute), int(second or 0))
    return (day_of, clock) if clock[0] < 24 and clock[1] < 60 and clock[2] < 60 else None
