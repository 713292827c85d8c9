"""One bilingual word for each domain value (shared/terms.py), and every message a
person may read in both languages (issue 4: English-only and conflicting words)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import console
import shared
from console import charts, dashboard
from console import tickets as ticket_pages
from shared import parcels, passwords, phones, terms, tickets
from shared.errors import LobbyDeskError
from tests.helpers import building_db

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
# (table, column) whose CHECK (column IN (...)) values people see → the term group.
DOMAIN_ENUMS = {
    ("staff", "role"): "role",
    ("tickets", "urgency"): "urgency",
    ("tickets", "status"): "ticket_status",
    ("tickets", "kind"): "ticket_kind",
    ("visits", "status"): "visit_status",
    ("parcels", "status"): "parcel_status",
    ("escalations", "kind"): "escalation_kind",
    ("escalations", "status"): "escalation_status",
    ("parcel_notices", "status"): "message_state",
    ("roster_imports", "status"): "import_status",
    ("emergencies", "kind"): "emergency_kind",
    ("handover_notes", "status"): "handover_status",
    ("handover_notes", "category"): "handover_category",
    ("unit_instructions", "kind"): "instruction_kind",
    ("invitations", "kind"): "invitation_kind",
}
TEMPLATES = Path(console.__file__).parent / "templates"
# A template's own table of words: {% set x_labels = {...} %} or {'pending': '待核实 · …'}.
OWN_TABLE = re.compile(r"set \w*labels = \{|\{\s*'\w+'\s*:\s*'[^']*·")


def _allowed(db, table: str, column: str) -> set[str]:
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    found = re.search(rf"\b{column}\b[^,]*?CHECK \({column} IN \(([^)]*)\)\)", sql)
    assert found, f"no CHECK on {table}.{column}"
    return set(re.findall(r"'([^']+)'", found.group(1)))


def test_every_value_the_schema_allows_has_a_chinese_and_an_english_word(app):
    db = building_db(app)
    try:
        for (table, column), group in DOMAIN_ENUMS.items():
            allowed = _allowed(db, table, column)
            assert allowed <= set(terms.TERMS[group]), (table, column)
            for value in allowed:
                zh, en = terms.pair(group, value)
                assert CJK.search(zh) and LATIN.search(en) and not CJK.search(en), (group, value)
                assert terms.term(group, value) == f"{zh} · {en}"
    finally:
        db.close()


def test_no_two_urgencies_share_a_word():
    words = [terms.pair("urgency", u)[0] for u in terms.URGENCY_ORDER]
    assert words == ["危急", "紧急", "一般"] and len(set(words)) == 3


@pytest.mark.parametrize("urgency", tickets.URGENCIES)
def test_dashboard_charts_pdf_and_ticket_pages_say_an_urgency_the_same_way(urgency):
    """The PDF prints the dashboard's tables, so it says what the dashboard says."""
    expected = terms.term("urgency", urgency)
    assert dashboard.URGENCY_LABELS[urgency] == expected
    assert charts.URGENCY_LABELS[urgency] == expected
    assert tickets.urgency_label(urgency) == expected
    assert ticket_pages.URGENCY_LABELS[urgency] == expected


def test_no_template_keeps_its_own_table_of_words():
    own = [
        f"{path.relative_to(TEMPLATES)}: {found.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for found in OWN_TABLE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert own == []


def test_the_queue_the_visitor_log_and_the_unit_page_say_a_visit_status_alike(
    app, kiosk, reception
):
    answer = kiosk.client.post(
        "/api/v1/visits",
        json={"name": "张先生", "phone": "13812345678", "unit": "101", "created_at": "2026-11-27T08:59:59+00:00"},
        headers=kiosk.headers(),
    )  # fmt: skip
    assert answer.status_code == 201
    waiting = terms.term("visit_status", "pending")
    for path in ("/queue/rows", "/visitors/", "/residents/units/1"):
        assert waiting in reception.client.get(path).get_data(as_text=True), path
    reception.post(f"/visitors/{answer.json['id']}/decide", decision="confirm_id")
    on_site = terms.term("visit_status", "confirmed")
    for path in ("/visitors/", "/residents/units/1"):
        assert on_site in reception.client.get(path).get_data(as_text=True), path


def test_roles_are_words_not_codes(app, client):
    assert terms.term("role", "reception") == "前台 · Reception"
    assert terms.term("role", "manager") == "物业经理 · Property manager"
    render = app.jinja_env.from_string("{{ term('role', 'admin') }}|{{ 'admin' | term('role') }}")
    assert render.render() == "管理员 · Administrator|管理员 · Administrator"
    assert terms.term("role", "somebody") == "somebody"  # an unknown value: as it is, no 500


def _error_classes():
    for package in (shared, console):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    seen, stack = [], list(LobbyDeskError.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    # Only the product's own (a test module may define its own to raise).
    return [cls for cls in seen if cls.__module__.startswith(("shared.", "console."))]


def test_every_error_a_person_may_read_says_it_in_chinese_and_english():
    """Each domain error's own message (the ones built from arguments are built in their
    modules, each with both languages, and are covered by their tests)."""
    english_only = []
    for cls in _error_classes():
        try:
            message = str(cls())
        except TypeError:
            continue  # needs arguments: its message is written where it is raised
        if not (CJK.search(message) and LATIN.search(message)):
            english_only.append(f"{cls.__module__}.{cls.__name__}: {message}")
    assert english_only == []


@pytest.mark.parametrize(
    "raising",
    [
        lambda: passwords.check_rules("password123"),
        lambda: phones.normalise("12345"),
        lambda: parcels.normalise_tracking("??"),
    ],
)
def test_the_messages_named_in_the_issue_are_bilingual(raising):
    with pytest.raises(LobbyDeskError) as error:
        raising()
    assert CJK.search(str(error.value)) and LATIN.search(str(error.value))


def test_the_header_names_the_role_in_words(reception):
    page = reception.client.get("/parcels/list").get_data(as_text=True)
    assert "王芳 (前台 · Reception)" in page and "(reception)" not in page


@pytest.mark.parametrize(
    ("stored", "cell"),
    [
        ("+8613812345678", "138 1234 5678"),
        ("+442079460958", "00 44 20 7946 0958"),
        ("+14155550123", "00 1 415-555-0123"),
        (None, ""),
    ],
)
def test_phones_in_csv_open_as_text_without_an_apostrophe(stored, cell):
    from console.exports import csv_safe, phone_cell

    assert phone_cell(stored) == cell
    assert csv_safe(phone_cell(stored)) == cell  # nothing a spreadsheet would run


def test_a_damaged_phone_is_still_neutralised():
    from console.exports import csv_safe, phone_cell

    assert csv_safe(phone_cell("=HYPERLINK(1)")) == "'=HYPERLINK(1)"
