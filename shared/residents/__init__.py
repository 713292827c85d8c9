"""The people of a building: owners, tenants and household members of each unit.

Every writer (the demo, the roster import, the console pages, the command
line) goes through `create`, `update`, `move_in` and `move_out` here, with the
same validation. A resident is active until moved out; a moved-out resident
gets no messages and is not shown as a host, and their row (their history)
stays until retention erases it. How a resident agreed to be told is kept per
channel with the time of consent (PIPL), in the fallback order.

The modules: `fields` (what a resident is, checked), `people` (the writers and
`get`), `directory` (search keys and readers), `standing` (a unit's standing
instructions and parcel proxies), `bulk` (the roster import's writes). Callers
use the names below, as `residents.create` and so on.
"""

from __future__ import annotations

from shared.residents.bulk import insert_many, move_out_many, update_many
from shared.residents.directory import (
    active_of,
    channels_of,
    pinyin_keys,
    search,
    search_keys,
    search_text,
)
from shared.residents.fields import (
    CHANNEL_KINDS,
    CHANNEL_LABELS,
    INSTRUCTION_KINDS,
    INSTRUCTION_LABELS,
    LANGUAGES,
    MAX_CHANNELS,
    MAX_EMAIL,
    MAX_INSTRUCTION,
    MAX_URL,
    ROLE_LABELS,
    ROLES,
    InvalidResident,
    channel_kind_of,
    check_move_out_on,
    clean,
    clean_channel,
)
from shared.residents.people import create, get, move_in, move_out, today, update
from shared.residents.standing import (
    add_instruction,
    add_proxy,
    instructions_of,
    proxies_of,
    remove_standing,
)

__all__ = [
    "CHANNEL_KINDS",
    "CHANNEL_LABELS",
    "INSTRUCTION_KINDS",
    "INSTRUCTION_LABELS",
    "LANGUAGES",
    "MAX_CHANNELS",
    "MAX_EMAIL",
    "MAX_INSTRUCTION",
    "MAX_URL",
    "ROLES",
    "ROLE_LABELS",
    "InvalidResident",
    "active_of",
    "add_instruction",
    "add_proxy",
    "channel_kind_of",
    "channels_of",
    "check_move_out_on",
    "clean",
    "clean_channel",
    "create",
    "get",
    "insert_many",
    "instructions_of",
    "move_in",
    "move_out",
    "move_out_many",
    "pinyin_keys",
    "proxies_of",
    "remove_standing",
    "search",
    "search_keys",
    "search_text",
    "today",
    "update",
    "update_many",
]
