"""What a resident is made of, checked: every writer (form, roster file, command
line) cleans a resident's fields here first, and InvalidResident names the first
wrong field."""

from __future__ import annotations

import re
from datetime import date

from shared import names, phones, terms
from shared.errors import InvalidRequest
from shared.text import refused_character

ROLES = ("owner", "tenant", "household")
ROLE_LABELS = terms.labels("resident_role")
LANGUAGES = ("zh_CN", "en")
CHANNEL_KINDS = ("email", "sms", "wecom", "dingtalk", "feishu", "webhook")
CHANNEL_LABELS = {
    "email": "邮件 · E-mail",
    "sms": "短信 · SMS",
    "wecom": "企业微信 · WeCom",
    "dingtalk": "钉钉 · DingTalk",
    "feishu": "飞书 · Feishu",
    "webhook": "Webhook（公众号等 · WeChat bridge）",
}
# apprise schemes each kind accepts; an SMS gateway may be any other apprise service.
_SCHEMES = {
    "wecom": ("wecombot",),
    "dingtalk": ("dingtalk",),
    "feishu": ("feishu", "lark"),
    "webhook": ("json", "jsons", "form", "forms", "xml", "xmls"),
}
MAX_CHANNELS = 5
MAX_EMAIL = 254
MAX_URL = 500
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
INSTRUCTION_KINDS = ("do_not_admit", "parcels", "note")
INSTRUCTION_LABELS = terms.labels("instruction_kind")
MAX_INSTRUCTION = 300
# The columns a resident's form or file row writes, in the order the UPDATEs name them.
FIELDS = ("name", "role", "phone", "alt_phone", "email", "language", "moved_in_on")


class InvalidResident(InvalidRequest):
    """This resident cannot be saved as it is. 住户信息有误。"""

    code = "invalid_resident"
    http_status = 422

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def clean_name(value, field: str = "name") -> str:
    try:
        return names.clean(value)
    except names.InvalidName:
        raise InvalidResident(
            "请填写姓名：仅限文字，最多 40 个字符 · Enter a name: letters only, at most 40 characters.",
            field,
        ) from None


def clean_phone(value, field: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return phones.normalise(text)
    except phones.InvalidPhone:
        raise InvalidResident(
            f"“{text[:20]}”不是有效的手机号（固定电话无法接收短信）· "
            f"“{text[:20]}” is not a valid mobile number (a landline cannot receive messages).",
            field,
        ) from None


def clean_email(value, field: str = "email") -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL or not _EMAIL.match(text) or refused_character(text, allowed=""):
        raise InvalidResident(
            f"“{text[:40]}”不是有效的邮箱地址 · “{text[:40]}” is not a valid e-mail address.", field
        )
    return text


def clean_date(value, field: str, label_zh: str, label_en: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text.replace("/", "-")).isoformat()
    except ValueError:
        raise InvalidResident(
            f"{label_zh}应为日期，如 2026-12-01 · {label_en} must be a date such as 2026-12-01.",
            field,
        ) from None


def channel_kind_of(address: str) -> str:
    """The channel an address belongs to: an e-mail address, or an apprise URL's service."""
    if "://" not in address:
        return "email"
    scheme = address.split("://", 1)[0].lower()
    if scheme in ("mailto", "mailtos"):
        return "email"
    for kind, schemes in _SCHEMES.items():
        if scheme in schemes:
            return kind
    return "sms"


def clean_channel(channel: dict, position: int) -> dict:
    """One contact channel: kind, address and the resident's consent (PIPL)."""
    field = f"channel_{position}"
    address = str(channel.get("address") or "").strip()
    kind = str(channel.get("kind") or "").strip().lower() or channel_kind_of(address)
    if kind not in CHANNEL_KINDS:
        raise InvalidResident("未知的通知渠道 · Unknown contact channel.", field)
    if kind == "email" and "://" in address:
        # a mail server of the resident's own (an apprise mailto:// URL) is allowed too
        if not _valid_apprise_url(kind, address):
            raise InvalidResident(
                f"“{address[:60]}”不是有效的邮件地址 · “{address[:60]}” is not a valid mail URL.",
                field,
            )
    elif kind == "email":
        address = clean_email(address.removeprefix("mailto:"), field) or ""
    elif not _valid_apprise_url(kind, address):
        raise InvalidResident(
            f"“{address[:60]}”不是有效的{CHANNEL_LABELS[kind]}地址 · "
            f"“{address[:60]}” is not a valid {kind} address (an apprise URL).",
            field,
        )
    if not address:
        raise InvalidResident("请填写通知地址 · Enter the address for this channel.", field)
    if not channel.get("consent_at"):
        raise InvalidResident(
            "须经住户同意才能通过此渠道通知 · The resident must agree before being contacted this way.",
            field,
        )
    return {
        "kind": kind,
        "address": address,
        "consent_at": channel["consent_at"],
        "consent_source": str(channel.get("consent_source") or "form"),
    }


def _valid_apprise_url(kind: str, url: str) -> bool:
    import apprise  # heavy: only when a channel is checked

    if not url or len(url) > MAX_URL or refused_character(url, allowed=""):
        return False
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if kind == "email" and scheme not in ("mailto", "mailtos"):
        return False
    if kind in _SCHEMES and scheme not in _SCHEMES[kind]:
        return False
    if kind == "sms" and scheme in ("mailto", "mailtos"):
        return False
    return apprise.Apprise.instantiate(url) is not None


def clean(fields: dict, *, today: str) -> dict:
    """Validated resident fields; InvalidResident names the first wrong field."""
    role = str(fields.get("role") or "owner").strip().lower()
    if role not in ROLES:
        raise InvalidResident(
            "身份应为业主、租户或家庭成员 · Role must be owner, tenant or household.", "role"
        )
    language = str(fields.get("language") or "zh_CN").strip()
    if language not in LANGUAGES:
        language = "en" if language.lower().startswith("en") else None
        if language is None:
            raise InvalidResident(
                "语言应为中文或英文 · Language must be Chinese or English.", "language"
            )
    cleaned = {
        "name": clean_name(fields.get("name")),
        "role": role,
        "phone": clean_phone(fields.get("phone"), "phone"),
        "alt_phone": clean_phone(fields.get("alt_phone"), "alt_phone"),
        "email": clean_email(fields.get("email")),
        "language": language,
        "moved_in_on": clean_date(
            fields.get("moved_in_on"), "moved_in_on", "入住日期", "Move-in date"
        )
        or today,
    }
    channels = list(fields.get("channels") or [])
    if len(channels) > MAX_CHANNELS:
        raise InvalidResident(
            f"最多 {MAX_CHANNELS} 个通知渠道 · At most {MAX_CHANNELS} channels.", "channels"
        )
    cleaned["channels"] = [clean_channel(c, i) for i, c in enumerate(channels, start=1)]
    return cleaned


def check_move_out_date(moved_out_on: str, today_text: str, moved_in_on: str | None) -> None:
    if moved_out_on > today_text:
        raise InvalidResident(
            "迁出日期不能晚于今天 · The move-out date cannot be after today.", "moved_out_on"
        )
    if moved_in_on and moved_out_on < moved_in_on:
        raise InvalidResident(
            "迁出日期不能早于入住日期 · The move-out date cannot be before the move-in date.",
            "moved_out_on",
        )


def clean_instruction(text, field: str = "text", limit: int = MAX_INSTRUCTION) -> str:
    value = " ".join(str(text or "").split())
    if not value or len(value) > limit:
        raise InvalidResident(f"请填写 1–{limit} 个字符 · Enter 1–{limit} characters.", field)
    if refused_character(value, allowed=""):
        raise InvalidResident("含有不可见字符 · It contains an invisible character.", field)
    return value


def check_move_out_on(text, *, today: str, moved_in_on: str | None) -> str:
    """A move-out date from a file, held to move_out()'s rules (InvalidResident)."""
    moved_out_on = clean_date(text, "moved_out_on", "迁出日期", "Move-out date")
    if moved_out_on is None:
        raise InvalidResident("请填写迁出日期 · Enter the move-out date.", "moved_out_on")
    check_move_out_date(moved_out_on, today, moved_in_on)
    return moved_out_on
