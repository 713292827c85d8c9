"""Walk-in effort at the kiosk by the keystroke-level model (KLM), before and after.

Each flow is a list of screens; each screen says what a person must read on it
(catalogue keys, counted in the kiosk's Chinese), what they tap, how many digits
they type and how many decisions they make. The "after" flows are walked on the
real view-models as they are counted (a tap or digit the code does not take
fails the walk), so the table cannot drift from the kiosk. The "before" flows
are the kiosk at --before (git), read from that revision's catalogue.

Operators (Card, Moran & Newell; the figures of issue 5/9):
  tap      P + K = 1.1 s + 0.2 s: point at a button and tap it
  digits   P + n·K: the hand moves to the keypad once, then 0.2 s a digit
  scan     P + K: hold the phone's QR to the scanner (as one tap)
  decide   M = 1.35 s: before each choice or confirmation
  read     Chinese at 250 characters a minute (0.24 s a character)
First time: everything the screen asks the person to read. Practised: only
what is new each time (the answers, their own masked name, the unit offered).
A flow ends when the request is in the kiosk's outbox (or the parcel answer is
read): the waiting for reception is not the person's effort.

    .venv/bin/python bench/walk_in_klm.py [--before 1f9c26c]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.client import SUCCESS, Result  # noqa: E402
from kiosk.surnames import search  # noqa: E402
from kiosk.viewmodels import invitation as iv  # noqa: E402
from kiosk.viewmodels import parcel as pv  # noqa: E402
from kiosk.viewmodels import repair as rv  # noqa: E402
from kiosk.viewmodels import visitor as vv  # noqa: E402
from shared.clock import FrozenClock  # noqa: E402

POINT, KEY, DECIDE = 1.1, 0.2, 1.35
READ_PER_CHAR = 60 / 250
PHONE, UNIT = "13812345678", "1201"


@dataclass
class Screen:
    name: str
    read: list = field(default_factory=list)  # keys (or (key, values)) read the first time
    news: list = field(default_factory=list)  # keys still read when practised
    taps: int = 0
    digits: int = 0
    decisions: int = 0

    def motor(self) -> float:
        return self.taps * (POINT + KEY) + ((POINT + self.digits * KEY) if self.digits else 0)


class Catalogue:
    """The kiosk's Chinese texts, from the working tree or from a git revision."""

    def __init__(self, revision: str | None = None):
        self.texts: dict[str, str] = {}
        folder = "assets/translations"
        names = self._names(folder, revision)
        for name in names:
            raw = self._read(f"{folder}/{name}", revision)
            for key, value in json.loads(raw).items():
                self.texts[key] = value["zh_CN"]

    @staticmethod
    def _names(folder: str, revision: str | None) -> list[str]:
        if revision is None:
            return sorted(p.name for p in (ROOT / folder).glob("kiosk*.json"))
        listing = subprocess.run(
            ["git", "ls-tree", "--name-only", f"{revision}:{folder}"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return [n for n in listing.split() if n.startswith("kiosk") and n.endswith(".json")]

    @staticmethod
    def _read(path: str, revision: str | None) -> str:
        if revision is None:
            return (ROOT / path).read_text(encoding="utf-8")
        return subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, text=True,
            check=True,
        ).stdout  # fmt: skip

    def chars(self, items: list) -> int:
        """Characters a person reads: CJK and digits/letters, not spaces or punctuation."""
        total = 0
        for item in items:
            key, values = item if isinstance(item, tuple) else (item, {})
            text = self.texts[key].format(**values) if key in self.texts else key
            total += sum(1 for ch in text if ch.isalnum())
        return total


def seconds(screen: Screen, catalogue: Catalogue, practised: bool) -> dict:
    chars = catalogue.chars(screen.news if practised else screen.read + screen.news)
    read = chars * READ_PER_CHAR
    total = screen.motor() + screen.decisions * DECIDE + read
    return {"chars": chars, "read": read, "total": total}


# -- the flows after: walked on the real view-models --------------------------------------
def ok(body: dict) -> Result:
    return Result(SUCCESS, 200, body)


def type_phone(vm):
    effects = [vm.phone_key_and_go(digit) for digit in PHONE]
    assert effects[:-1] == [None] * 10 and effects[-1] is not None  # no "Next" to tap
    return effects[-1]


def visitor_new() -> list[Screen]:
    vm = vv.VisitorViewModel(FrozenClock("2026-11-27T09:00:00+00:00"))
    vm.on_online(True)
    vm.begin()
    assert vm.step == vv.PHONE  # the one-line notice is on the phone screen
    query = type_phone(vm)  # the 11th digit goes on by itself
    vm.on_lookup(query.generation, ok({"found": False, "masked_name": None}))
    assert vm.step == vv.NAME
    assert "张" in [s.text for s in search("", vv.SURNAME_SLOTS)]  # on the first page
    vm.pick_surname("张")
    vm.pick_title_and_go("mr")  # the title ends the name
    assert vm.step == vv.UNIT
    for digit in UNIT:
        vm.unit_key(digit)
    query = vm.unit_submit("zh_CN")  # "Register": visiting, one person
    vm.on_unit_checked(query.generation, ok({"unit": UNIT, "exists": True}))
    assert vm.follow_up() is not None and vm.step == vv.OUTCOME
    days = {"days": vm.retention_days}
    return [
        Screen("home", ["home.visitor"], taps=1, decisions=1),
        Screen("phone", ["visitor.phone.title", ("visitor.phone.notice", days),
                         "visitor.phone.optional"], digits=11, decisions=1),
        Screen("name", ["visitor.name.title", "张", "visitor.name.mr"], taps=2, decisions=2),
        Screen("unit", ["visitor.unit.title", "visitor.submit"], digits=4, taps=1, decisions=1),
    ]  # fmt: skip


def visitor_returning() -> list[Screen]:
    vm = vv.VisitorViewModel(FrozenClock("2026-11-27T09:00:00+00:00"))
    vm.on_online(True)
    vm.begin()
    query = type_phone(vm)
    last = {"last_unit": UNIT, "last_purpose": "visit"}
    vm.on_lookup(query.generation, ok({"found": True, "masked_name": "张**", **last}))
    shown = vm.last_unit_shown  # the screen shows the last unit masked (12**)
    assert vm.same_as_last("zh_CN") is not None and vm.step == vv.OUTCOME
    return [
        Screen("home", ["home.visitor"], taps=1, decisions=1),
        Screen("phone", ["visitor.phone.title", ("visitor.phone.notice", {"days": 90}),
                         "visitor.phone.optional"], digits=11, decisions=1),
        Screen("returning", news=[("visitor.returning.title", {"name": "张**"}),
                                  ("visitor.returning.same", {"unit": shown})],
               taps=1, decisions=1),
    ]  # fmt: skip


def parcel(by_qr: bool) -> list[Screen]:
    vm = pv.ParcelViewModel(FrozenClock("2026-11-27T09:00:00+00:00"))
    vm.on_online(True)
    vm.begin()
    if by_qr:
        order = vm.scanned("x" * 40)
    else:
        for digit in UNIT:
            vm.key(digit)
        vm.submit()
        for digit in "482913":
            vm.key(digit)
        order = vm.submit()
    if order is not None:
        vm.on_saved(1)
        vm.on_acked(1, {"parcels": [{"carrier": "顺丰", "shelf": "", "tracking_tail": "0123"}]})
    result = Screen("result", news=["parcel.found_one", "parcel.collect.desk"], decisions=0)
    home = Screen("home", ["home.parcel"], taps=1, decisions=1)
    if by_qr:  # a token the console has not signed is refused here: the count is what matters
        return [home, Screen("scan", ["parcel.scan_hint"], taps=1, decisions=1), result]
    assert vm.state == pv.COLLECT
    return [
        home,
        Screen("unit", ["parcel.title", "parcel.type_hint", "parcel.next"], digits=4, taps=1,
               decisions=1),
        Screen("code", ["parcel.submit"], digits=6, taps=1, decisions=1),
        result,
    ]  # fmt: skip


def repair_common() -> list[Screen]:
    vm = rv.RepairViewModel(FrozenClock("2026-11-27T09:00:00+00:00"))
    vm.on_online(True)
    vm.begin()
    for digit in UNIT:
        vm.unit_key(digit)
    query = vm.unit_next()
    vm.on_unit_checked(query.generation, ok({"unit": UNIT, "exists": True}))
    vm.pick_category("water")
    vm.pick_problem("dripping_tap", "zh_CN")
    assert vm.submit("normal", "zh_CN") is not None and vm.step == rv.DONE
    categories = [c.zh for c in rv.categories()]
    return [
        Screen("home", ["home.repair"], taps=1, decisions=1),
        Screen("unit", ["repair.unit.title", "repair.unit.hint", "nav.next"], digits=4, taps=1,
               decisions=1),
        Screen("category", ["repair.category.title", *categories], taps=1, decisions=1),
        Screen("problem", ["repair.problem.title", "水龙头漏水", "下水道堵塞"], taps=1,
               decisions=1),
        Screen("urgency", ["repair.urgency.title", "repair.urgency.normal"], taps=1, decisions=1),
    ]  # fmt: skip


def invited() -> list[Screen]:
    """An invited visitor: scan the pass at home (no tile to find), read the console's
    greeting, tap 确认入场 · Sign in, read the answer. Walked on the real view-model
    with a real signed pass; the console's answers are the API's own shapes."""
    from datetime import timedelta

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from shared import pass_signing

    clock = FrozenClock("2026-11-27T09:00:00+00:00")
    signer = Ed25519PrivateKey.generate()
    claims = pass_signing.PassClaims(1, 41, 7, clock.now() + timedelta(days=1))
    key = {"public_key": pass_signing.published(signer)["public_key"], "building_id": 1}
    vm = iv.InvitationViewModel(clock)
    vm.on_online(True)
    query = vm.scanned(pass_signing.sign(signer, claims), key, "zh_CN")  # no tap: a scan
    greeting = "欢迎 张** · 拜访 1201"
    vm.on_checked(query.generation, ok({"greeting_zh": greeting, "unit": UNIT}))
    assert vm.state == iv.CONFIRM
    assert vm.confirm("zh_CN") is not None  # the one tap
    vm.on_saved(1)
    vm.on_acked(1, {"outcome": "signed_in", "pass_token": "t", "unit": UNIT})
    assert vm.state == iv.SIGNED_IN
    return [
        Screen("home (scan)", ["home.pass_hint"], taps=1, decisions=1),
        Screen("confirm", ["invite.confirm"], news=[greeting], taps=1,
               decisions=1),
        Screen("signed in", news=["invite.signed_in", ("invite.go_to", {"unit": UNIT})]),
    ]  # fmt: skip


# -- the flows before (the kiosk at --before): the same person, the old screens ------------
def before_flows() -> dict[str, list[Screen]]:
    privacy = ["visitor.privacy.title", "visitor.privacy.who", "visitor.privacy.why",
               "visitor.privacy.what", ("visitor.privacy.keep", {"days": 90}),
               "visitor.privacy.photo", "visitor.privacy.agree"]  # fmt: skip
    phone = ["visitor.phone.title", "visitor.phone.optional", "nav.next"]
    home_v = Screen("home", ["home.visitor"], taps=1, decisions=1)
    unit = Screen("unit", ["visitor.unit.title", "visitor.unit.hint", "nav.next"], digits=4,
                  taps=1, decisions=1)  # fmt: skip
    purpose = Screen("purpose", ["visitor.purpose.title", "visitor.purpose.visit",
                                 "visitor.party.label", "visitor.submit"], taps=1, decisions=1)  # fmt: skip
    new = [
        home_v,
        Screen("privacy", [], news=privacy, taps=1, decisions=1),  # re-read: consent each time
        Screen("phone", phone, digits=11, taps=1, decisions=1),
        Screen("name", ["visitor.name.title", ("visitor.name.search", {"typed": ""}), "张", "visitor.name.mr",
                        "nav.next"], taps=3, decisions=2),  # fmt: skip
        unit, purpose,
    ]  # fmt: skip
    returning = [
        home_v,
        Screen("privacy", [], news=privacy, taps=1, decisions=1),
        Screen("phone", phone, digits=11, taps=1, decisions=1),
        Screen("returning", [("visitor.returning.detail", {"phone": "138****5678"}), "visitor.returning.yes"],
               news=[("visitor.returning.title", {"name": "张**"})], taps=1, decisions=1),
        unit, purpose,
    ]  # fmt: skip
    after = {"parcel by code": parcel(False), "parcel by QR": parcel(True)}
    # before: the count in the title and again in the console's sentence shown under it
    said_twice = "已为您找到 1 件快递，请到服务台领取，工作人员正在为您取件。"
    result = Screen("result", news=[("parcel.found", {"n": 1}), said_twice], decisions=0)
    for name in after:
        after[name] = [*after[name][:-1], result]
    return {"visitor, new": new, "visitor, returning": returning, **after,
            "repair, common": repair_common()}  # fmt: skip


def after_flows() -> dict[str, list[Screen]]:
    return {
        "visitor, new": visitor_new(),
        "visitor, returning": visitor_returning(),
        "parcel by code": parcel(False),
        "parcel by QR": parcel(True),
        "repair, common": repair_common(),
        "invited visitor (pass)": invited(),
    }


def invited_vs_walk_in(flows: dict, catalogue: Catalogue) -> list[str]:
    """The issue's figure: an invited visitor's own time and taps against a walk-in's."""
    lines = ["\n## Invited vs walk-in (this tree)", "",
             "| flow | taps (the scan counted as one) | first time s | practised s |",
             "|---|--:|--:|--:|"]  # fmt: skip
    for name in ("invited visitor (pass)", "visitor, new", "visitor, returning"):
        screens = flows[name]
        first = sum(seconds(s, catalogue, False)["total"] for s in screens)
        practised = sum(seconds(s, catalogue, True)["total"] for s in screens)
        taps = sum(s.taps for s in screens)  # keypad digits not counted as taps
        lines.append(f"| {name} | {taps} | {first:.1f} | {practised:.1f} |")
    return lines


def table(label: str, flows: dict, catalogue: Catalogue) -> list[str]:
    lines = [f"\n## {label}", "", "| flow | screen | taps | digits | decisions | chars "
             "| first time s | practised s |", "|---|---|--:|--:|--:|--:|--:|--:|"]  # fmt: skip
    for flow, screens in flows.items():
        first = practised = 0.0
        for screen in screens:
            a, b = seconds(screen, catalogue, False), seconds(screen, catalogue, True)
            first, practised = first + a["total"], practised + b["total"]
            lines.append(
                f"| {flow} | {screen.name} | {screen.taps} | {screen.digits} | "
                f"{screen.decisions} | {a['chars']} | {a['total']:.1f} | {b['total']:.1f} |"
            )
        lines.append(f"| **{flow}** | **total** | | | | | **{first:.1f}** | **{practised:.1f}** |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="1f9c26c", help="git revision of the old kiosk")
    args = parser.parse_args()
    lines = table(f"Before ({args.before})", before_flows(), Catalogue(args.before))
    after = after_flows()
    lines += table("After (this tree)", after, Catalogue())
    lines += invited_vs_walk_in(after, Catalogue())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
