"""Every citation resolves inside the repository (docs/README.md).

Code, tests, .kv files, templates, scripts, the README and docs/ cite documents
("docs/ARCHITECTURE.md", "SECURITY.md 14", "S3", 'STANDARDS.md, "How the desk is
measured"'). A fresh clone must be able to follow each one: the file is in the
repository, the numbered item is in docs/SECURITY.md, the S-id in
docs/STANDARDS.md, a quoted section is a heading of that document, and nothing
names a path on one particular machine.

This file is not scanned itself: it holds broken citations on purpose, to show
that the checker catches them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCANNED = ("kiosk", "console", "shared", "lobbydesk", "assets", "deploy", "bench", "tests")
SCANNED += ("docs", "scripts", ".ci")
TOP_LEVEL = ("README.md", "pyproject.toml")
SUFFIXES = {".py", ".kv", ".html", ".js", ".css", ".md", ".sh", ".service", ".toml", ".txt"}
SKIPPED_DIRS = {"__pycache__", "screenshots", "fixtures", "node_modules"}

DOC_FILE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[A-Z][A-Z0-9_]*\.md)\b")
SECTION = re.compile(
    r"(?<![\w/.-])((?:[\w.-]+/)*[A-Z][A-Z0-9_]*\.md)`?\)?,?[ \t]+\(?\"([^\"\n]{3,80})\""
)
SECURITY_ITEMS = re.compile(
    r"\bSECURITY(\.md)?[ \t]+(\d+(?:[ \t]*[-–][ \t]*\d+)?"
    r"(?:[ \t]*(?:,|and)[ \t]*\d+(?:[ \t]*[-–][ \t]*\d+)?)*)"
)
README_SECTION = re.compile(r"\bREADME(?:'s)?[ \t]+\(?\"([^\"\n]{3,80})\"")
# Items of documents this repository does not hold, cited without a file name
BARE_ITEM = re.compile(r"\b(STYLE|DESIGN|KIVY|STANDARDS)[ \t]+\d")
STANDARD_ID = re.compile(r"(?<![\w-])S(\d{1,2})(?![\w-])")
MACHINE_PATHS = ("/work/", "../shared/")


def _numbers(listed: str) -> list[int]:
    """'2-4, 12 and 30' -> [2, 3, 4, 12, 30]."""
    numbers = []
    for part in re.split(r"\s*(?:,|and)\s*", listed.strip()):
        low, _, high = re.sub(r"\s", "", part).replace("–", "-").partition("-")
        numbers.extend(range(int(low), int(high or low) + 1))
    return numbers


def _has_section(document: Path, quoted: str) -> bool:
    """A quoted section name is (part of) one of the document's headings."""
    lines = document.read_text("utf-8").splitlines()
    return any(quoted.casefold() in line.casefold() for line in lines if line.startswith("#"))


SECURITY_NUMBERS = {
    int(m.group(1))
    for m in re.finditer(r"^###\s+(\d+)\s+·", (DOCS / "SECURITY.md").read_text("utf-8"), re.M)
}
STANDARD_NUMBERS = {
    int(m.group(1))
    for m in re.finditer(r"^##\s+S(\d+)\s+·", (DOCS / "STANDARDS.md").read_text("utf-8"), re.M)
}


def _resolve(cited: str, citing: Path) -> Path | None:
    """A bare name is looked for in docs/, at the top and beside the citing file;
    a path from the top of the repository or from the citing file's folder."""
    if "/" in cited:
        candidates = [ROOT / cited, citing.parent / cited]
    else:
        candidates = [DOCS / cited, ROOT / cited, citing.parent / cited]
    return next((path.resolve() for path in candidates if path.is_file()), None)


def problems_in(text: str, citing: Path) -> list[str]:
    """What in `text` (the content of `citing`) does not resolve in the repository."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        problems += [f"{number}: {p}" for p in _line_problems(line, citing)]
    return problems


def _line_problems(line: str, citing: Path) -> list[str]:
    problems = [f"a path on one machine ({path!r})" for path in MACHINE_PATHS if path in line]
    for match in DOC_FILE.finditer(line):
        if _resolve(match.group(1), citing) is None:
            problems.append(f"{match.group(1)} is not a file in the repository")
    for match in SECTION.finditer(line):
        document = _resolve(match.group(1), citing)
        if document and not _has_section(document, match.group(2)):
            problems.append(f'{match.group(1)} has no section "{match.group(2)}"')
    for match in README_SECTION.finditer(line):
        if not _has_section(ROOT / "README.md", match.group(1)):
            problems.append(f'README.md has no section "{match.group(1)}"')
    for match in SECURITY_ITEMS.finditer(line):
        if not match.group(1):
            problems.append(f'"{match.group(0)}": cite it as "SECURITY.md {match.group(2)}"')
        missing = [n for n in _numbers(match.group(2)) if n not in SECURITY_NUMBERS]
        if missing:
            problems.append(f"docs/SECURITY.md has no item {missing}")
    for match in BARE_ITEM.finditer(line):
        problems.append(f'"{match.group(0)}…" cites no file: name a document in docs/')
    for match in STANDARD_ID.finditer(line):
        if int(match.group(1)) not in STANDARD_NUMBERS:
            problems.append(f"docs/STANDARDS.md has no standard S{match.group(1)}")
    return problems


def _scanned_files() -> list[Path]:
    files = [ROOT / name for name in TOP_LEVEL]
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                continue
            script = folder in ("scripts", ".ci") and not path.suffix
            if (path.suffix in SUFFIXES or script) and path.resolve() != Path(__file__).resolve():
                files.append(path)
    return files


def test_the_scan_covers_code_tests_kv_templates_and_docs():
    scanned = {path.relative_to(ROOT).as_posix() for path in _scanned_files()}
    for expected in (
        "README.md",
        "shared/db.py",
        "kiosk/screens/visitor_phone.kv",
        "console/templates/base.html",
        "tests/ui/conftest.py",
        "docs/ARCHITECTURE.md",
        "bench/README.md",
        "scripts/test",
    ):
        assert expected in scanned


def test_every_citation_in_the_repository_resolves():
    problems = []
    for path in _scanned_files():
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError:
            continue
        where = path.relative_to(ROOT).as_posix()
        problems += [f"{where}:{problem}" for problem in problems_in(text, path)]
    assert problems == [], "\n".join(problems)


def test_the_numbered_documents_are_where_the_citations_point():
    assert SECURITY_NUMBERS == set(range(1, 35))
    assert STANDARD_NUMBERS == set(range(1, 15))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("# see KIVY.md", "KIVY.md is not a file"),
        ('"""Driving the window (see /work/shared/KIVY.md)."""', "a path on one machine"),
        ("# house style: ../shared/STYLE.md", "a path on one machine"),
        ("# writers on a lock (DESIGN.md, measured)", "DESIGN.md is not a file"),
        ("# exactly once (SECURITY.md 99)", "has no item [99]"),
        ("# throttled (SECURITY.md 17-18, 35)", "has no item [35]"),
        ("# masked (SECURITY 24)", 'cite it as "SECURITY.md 24"'),
        ("# the desk's clock (S15)", "has no standard S15"),
        ("# a state machine (STYLE 13-14)", "cites no file"),
        ('# why (README "Threads everywhere")', 'has no section "Threads everywhere"'),
        ('# see docs/ARCHITECTURE.md, "No such part"', 'has no section "No such part"'),
    ],
)
def test_a_citation_that_leads_nowhere_is_reported(text, complaint):
    problems = problems_in(text, ROOT / "shared" / "example.py")
    assert any(complaint in problem for problem in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        "# exactly once (SECURITY.md 14, 29, 32)",
        "# sessions (SECURITY.md 1-4, 12 and 30)",
        "# the S3 clock and emergencies (S8); standards S1–S14",
        '# writers on a lock (docs/ARCHITECTURE.md, "Measured choices")',
        '# KPIs (STANDARDS.md, "How the desk is measured")',
        '# why (README "Connection model")',
        "query = f'SELECT ...'  # noqa: S608",
        "# the kiosk's own folder: DATA_DIR/kiosk.db",
    ],
)
def test_a_citation_that_resolves_is_not_reported(text):
    assert problems_in(text, ROOT / "shared" / "example.py") == []
