"""One catalogue of words (docs/WORDS.md): the domain words in assets/translations/terms.json,
the kiosk's sentences in assets/translations/kiosk*.json. Every key the code names exists,
every key in a catalogue is named somewhere, both languages are there, counts have their
forms, and no console page or module keeps its own copy of a domain word."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from shared import i18n, terms
from shared.resources import asset

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
KEY_SHAPE = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
BUILT_KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)*\.$")  # f"help.{state}" starts "help."
QUOTED_KEY = re.compile(r"[\"']([a-z_]+(?:\.[a-z0-9_]+)+)[\"']")
# Key-shaped words in the kiosk that are not words to show: the outbox's kinds of request.
NOT_TRANSLATION_KEYS = {"parcel.pickup", "ticket.create", "ticket.rating"}
# term("group", …), labels("group"), pairs("group"), formatter("group"), pair("group", …),
# app.term("group", …) in kv, and the Jinja filter `value | term('group')`.
GROUP_USE = re.compile(
    r"(?:\bterm|\blabels|\bpairs|\bpair|\bformatter)\(\s*[\"']([a-z_]+)[\"']"
    r"|\|\s*term\(\s*[\"']([a-z_]+)[\"']"
)
PLURAL_USE = re.compile(r"\bplural\(\s*[\"']([a-z_]+)[\"']")


def _sources(*folders: str, suffixes=(".py", ".kv", ".html")) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*")
        if path.suffix in suffixes and "__pycache__" not in path.parts
    )


def _python_strings(path: Path, *, docstrings: bool = True):
    """(line, text) of each string in a module; docstrings left out when asked."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set()
    if not docstrings:
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                if isinstance(body[0].value, ast.Constant):
                    skipped.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in skipped:
                yield node.lineno, node.value


# --- the kiosk's sentences -----------------------------------------------------------------


def _kiosk_keys_named() -> dict[str, str]:
    """Every key-shaped string in kiosk code and .kv files → where it is first named."""
    prefixes = {key.split(".")[0] for key in i18n.catalogue("kiosk")}
    named: dict[str, str] = {}
    for path in _sources("kiosk"):
        if path.suffix == ".py":
            found = [text for _line, text in _python_strings(path) if KEY_SHAPE.match(text)]
        else:
            found = QUOTED_KEY.findall(path.read_text(encoding="utf-8"))
        for key in found:
            if key.split(".")[0] in prefixes and key not in NOT_TRANSLATION_KEYS:
                named.setdefault(key, str(path.relative_to(ROOT)))
    return named


def test_every_key_the_kiosk_names_is_in_its_catalogue():
    catalogue = i18n.catalogue("kiosk")
    missing = {key: where for key, where in _kiosk_keys_named().items() if key not in catalogue}
    assert missing == {}


def test_every_key_in_the_kiosk_catalogue_is_named_somewhere():
    """A key is named in full where it is used (never built from a value), so an unused
    one is dead words: remove it, or it drifts unnoticed."""
    unused = sorted(set(i18n.catalogue("kiosk")) - set(_kiosk_keys_named()))
    assert unused == []


def test_the_kiosk_builds_no_key_from_a_value():
    built = []
    for path in _sources("kiosk", suffixes=(".py",)):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and BUILT_KEY.match(str(head.value)):
                    built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    for path in _sources("kiosk", suffixes=(".kv",)):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"[\"'][a-z_]+\.[\"']\s*\+", line):
                built.append(f"{path.relative_to(ROOT)}:{number}")
    assert built == []


# --- the domain words ---------------------------------------------------------------------


def test_the_catalogue_is_package_data_read_through_shared_resources():
    assert terms.CATALOGUE == asset("translations", "terms.json")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"translations/*.json"' in pyproject  # lobbydesk_assets ships it in the wheel
    document = json.loads(terms.CATALOGUE.read_text(encoding="utf-8"))
    assert set(document) == {"_about", "terms", "plurals"}


def test_every_word_has_chinese_and_english():
    for group, values in terms.TERMS.items():
        assert values, group
        for value, (zh, en) in values.items():
            assert CJK.search(zh), (group, value)
            assert LATIN.search(en) and not CJK.search(en), (group, value)


def test_every_count_has_one_chinese_form_and_an_english_one_and_other():
    for key, entry in terms.PLURALS.items():
        assert set(entry) == {"zh_CN", "en"}, key
        assert isinstance(entry["zh_CN"], str) and "{n}" in entry["zh_CN"], key
        assert set(entry["en"]) == {"one", "other"}, key
        assert all("{n}" in form for form in entry["en"].values()), key


def test_plural_says_one_and_many_apart():
    assert terms.plural("parcels", 1, "en") == "1 parcel"
    assert terms.plural("parcels", 2, "en") == "2 parcels"
    assert terms.plural("parcels", 0, "en") == "0 parcels"
    assert terms.plural("parcels", 2, "zh_CN") == "2 件快递"
    assert terms.plural("parcels", 1) == "1 件快递 · 1 parcel"
    said = terms.plural("parcels_at_lobby", 1, "en", unit="1201")
    assert said == "1 parcel for 1201 is at the lobby"


def _group_and_plural_uses() -> tuple[dict[str, str], set[str]]:
    groups: dict[str, str] = {}
    plurals: set[str] = set()
    for path in _sources("shared", "console", "kiosk", "lobbydesk"):
        if path.name == "terms.py" and path.parent.name == "shared":
            continue  # the reader names groups only to say what it reads
        text = path.read_text(encoding="utf-8")
        for match in GROUP_USE.finditer(text):
            groups.setdefault(match.group(1) or match.group(2), str(path.relative_to(ROOT)))
        plurals.update(PLURAL_USE.findall(text))
    return groups, plurals


def test_every_group_and_count_the_code_names_is_in_the_catalogue():
    groups, plurals = _group_and_plural_uses()
    assert {g: where for g, where in groups.items() if g not in terms.TERMS} == {}
    assert plurals - set(terms.PLURALS) == set()


def test_every_group_and_count_in_the_catalogue_is_used():
    groups, plurals = _group_and_plural_uses()
    assert sorted(set(terms.TERMS) - set(groups)) == []
    assert sorted(set(terms.PLURALS) - plurals) == []


def test_the_kiosk_and_the_console_say_a_ticket_status_alike():
    """The issue: the kiosk said 已派单 and 已完成 where the console said 已派工 and 已解决."""
    from kiosk.viewmodels import ticket_status

    vm = ticket_status.TicketStatusViewModel()
    for status in ticket_status.STATUSES:
        vm.summary = {"status": status}
        zh, en = terms.pair("ticket_status", status)
        assert (vm.status_words("zh_CN"), vm.status_words("en")) == (zh, en)
    assert terms.pair("ticket_status", "assigned")[0] == "已派工"
    assert terms.pair("ticket_status", "resolved")[0] == "已解决"


# --- no copies of a domain word in the console (docs/WORDS.md) ------------------------------

# Groups whose words are also everyday nouns (终端, 前台, 快递, 满意 …): headings and prose
# use them freely, so a copy cannot be told from prose by a scan.
NOT_SCANNED = {"ticket_source", "handover_category", "rating"}
EVERYDAY_WORDS = {"其他", "备注"}  # "other" and "note": in every form
# Where a domain word stands alone but is not a value's label: each says why.
ALLOWED = {
    # KPI columns and chart series count things ("报修 Repairs", "呼叫前台 Help calls"): a
    # measure's heading, not the word for one item's kind or status.
    ("console/kpi_tables.py", "已响应"),
    ("console/kpi_tables.py", "呼叫前台"),
    ("console/kpi_tables.py", "报修"),
    ("console/kpi_tables.py", "投诉"),
    ("console/charts.py", "呼叫前台"),
    # "已拒绝 王芳 入内": a sentence with a name in it.
    ("console/queue.py", "已拒绝"),
    # Buttons name an action ("已处理 · Done"); a kiosk's outbox count; the ticket list's
    # "not finished" filter (no stored value); the resident page's menu anchor.
    ("console/templates/queue/_rows.html", "已处理"),
    ("console/templates/kiosks/index.html", "已处理"),
    ("console/templates/kiosks/index.html", "待发送"),
    ("console/templates/tickets/list.html", "未完成"),
    ("console/templates/resident_page/home.html", "报修"),
    # A message channel's consent withdrawn, not an announcement's status.
    ("console/templates/admin/person.html", "已撤回"),
    # The words a roster file may use for a role or a unit kind (synonyms accepted on input).
    ("shared/roster/formats.py", "业主"),
    ("shared/roster/formats.py", "租户"),
    ("shared/roster/formats.py", "家庭成员"),
    ("shared/roster/formats.py", "住宅"),
    ("shared/roster/formats.py", "商铺"),
    ("shared/roster/formats.py", "办公"),
    # An SQL comment in the schema.
    ("shared/migrations/m0014_building_roster.py", "商铺"),
}
# A run of Chinese (with its punctuation): a word inside a longer run is prose.
CJK_RUN = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef/]+")


def _domain_words() -> dict[str, str]:
    words = {}
    for group, values in terms.TERMS.items():
        if group not in NOT_SCANNED:
            for value, (zh, _en) in values.items():
                if zh not in EVERYDAY_WORDS:
                    words.setdefault(zh, f"{group}.{value}")
    return words


def _texts(path: Path):
    if path.suffix == ".py":
        yield from _python_strings(path, docstrings=False)
    else:
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        yield from enumerate(text.splitlines(), 1)


def _copies(folders: tuple[str, ...]) -> list[str]:
    words, found = _domain_words(), []
    for path in _sources(*folders, suffixes=(".py", ".html")):
        where = str(path.relative_to(ROOT))
        if where == "shared/terms.py":
            continue
        for line, text in _texts(path):
            for run in CJK_RUN.finditer(text):
                word = run.group(0).strip("/")
                if word in words and (where, word) not in ALLOWED:
                    found.append(f"{where}:{line}: {word} → term('{words[word]}')")
    return found


def test_no_console_page_or_module_spells_a_domain_word_itself():
    """Domain words come from the catalogue via term(); page prose stays inline 'zh · en'."""
    assert _copies(("console", "shared", "kiosk")) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "<td>已派工 · Assigned</td>",
        'flash("已解决 · Resolved")',
        "<span>危急</span>",
    ],
)
def test_the_scan_finds_a_copied_word(tmp_path, snippet, monkeypatch):
    """The scan itself: a label spelled out in a page or module is reported."""
    page = tmp_path / "console" / "templates" / "copy.html"
    page.parent.mkdir(parents=True)
    page.write_text(snippet, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert len(_copies(("console",))) == 1


def test_the_scan_leaves_prose_alone(tmp_path, monkeypatch):
    page = tmp_path / "console" / "templates" / "prose.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>暂无待处理请求 · Nothing waiting. 紧急程度 · Urgency</p>", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _copies(("console",)) == []
