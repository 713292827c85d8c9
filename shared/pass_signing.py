"""Visitor invitation passes: Ed25519-signed, verifiable offline (docs/INVITATIONS.md).

The console signs with a private key kept in its data folder; kiosks verify with the
published public key (GET /api/v1/pass-key), so a pass is checked at the kiosk even
when the console is out of reach. The pass carries ids and validity only — no name,
phone or unit (SECURITY.md 21: a signed payload is readable by anyone).

Text form: "LDI1:" + base64url(payload ‖ signature), no padding. The payload is 17
bytes packed big-endian (version, building id, invitation id, nonce, expiry in Unix
seconds) and the signature 64 bytes: 113 characters, a QR that scans well at a kiosk.
The "LDI1:" prefix tells the scanner a pass from a parcel or ticket QR (those are
itsdangerous tokens, which never contain a colon).

Plain Python: the kiosk imports `verify` and `PassError` as they are.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.errors import LobbyDeskError

SCHEME = "LDI1:"
VERSION = 1
_PAYLOAD = struct.Struct(">BIIII")  # version, building, invitation, nonce, expiry
_SIGNATURE_BYTES = 64
PASS_BYTES = _PAYLOAD.size + _SIGNATURE_BYTES
MAX_PASS_LENGTH = 200  # anything longer is not a pass; never decoded
KEY_FILE = "pass_signing_key"


class PassError(LobbyDeskError):
    """此通行证无效，请呼叫前台 · This pass is not valid. Please call reception."""

    code = "pass_invalid"
    http_status = 400


class PassMalformed(PassError):
    """这不是本楼的访客通行证，请呼叫前台 · This is not a visitor pass of this building. Please call reception."""

    code = "pass_malformed"


class PassTruncated(PassError):
    """通行证不完整，请重新扫描或呼叫前台 · The pass was read only in part. Scan it again or call reception."""

    code = "pass_truncated"


class PassTampered(PassError):
    """通行证签名不符，请呼叫前台 · The pass's signature does not match. Please call reception."""

    code = "pass_tampered"


class PassExpired(PassError):
    """通行证已过期，请联系住户或呼叫前台 · This pass has expired. Ask your host for a new one or call reception."""

    code = "pass_expired"
    http_status = 410


class PassOtherBuilding(PassError):
    """此通行证属于其他楼宇，请呼叫前台 · This pass is for another building. Please call reception."""

    code = "pass_other_building"
    http_status = 403


class PassRevoked(PassError):
    """此通行证已被取消，请联系住户或呼叫前台 · This pass was cancelled. Ask your host or call reception."""

    code = "pass_revoked"
    http_status = 410


@dataclass(frozen=True)
class PassClaims:
    building_id: int
    invitation_id: int
    nonce: int
    expires_at: datetime


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64decode(text: str) -> bytes:
    # The standard decoder skips characters outside the alphabet: checked first, so
    # a pass with anything inserted is malformed rather than quietly read.
    if not _BASE64URL.fullmatch(text):
        raise PassMalformed()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise PassMalformed() from error


def sign(private_key: Ed25519PrivateKey, claims: PassClaims) -> str:
    payload = _PAYLOAD.pack(
        VERSION,
        claims.building_id,
        claims.invitation_id,
        claims.nonce,
        int(claims.expires_at.timestamp()),
    )
    return SCHEME + _b64encode(payload + private_key.sign(payload))


def _raw(text) -> bytes:
    """The pass's bytes; a malformed or truncated text is refused before any crypto."""
    if not isinstance(text, str) or len(text) > MAX_PASS_LENGTH:
        raise PassMalformed()
    text = text.strip()
    if not text.startswith(SCHEME):
        raise PassMalformed()
    body = text[len(SCHEME) :]
    if len(body) % 4 == 1:  # no base64 text has this length: cut in the middle of a byte
        raise PassTruncated()
    raw = _b64decode(body)
    if len(raw) < PASS_BYTES:
        raise PassTruncated()
    if len(raw) > PASS_BYTES or raw[0] != VERSION:
        raise PassMalformed()
    return raw


def public_key_of(key: Ed25519PrivateKey | Ed25519PublicKey | bytes | str) -> Ed25519PublicKey:
    """A verifying key from a private key, a public key, raw bytes or published text."""
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key
    raw = _b64decode(key) if isinstance(key, str) else key
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(
    text,
    key,
    *,
    building_id: int,
    now: datetime,
    revoked=(),
) -> PassClaims:
    """The pass's claims, or the PassError that says why not: truncated, malformed,
    tampered (or signed by another key), another building's, expired, revoked
    (`revoked`: invitation ids the kiosk learnt from its feed)."""
    raw = _raw(text)
    payload, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    try:
        public_key_of(key).verify(signature, payload)
    except InvalidSignature as error:
        raise PassTampered() from error
    _version, building, invitation, nonce, expiry = _PAYLOAD.unpack(payload)
    if building != building_id:
        raise PassOtherBuilding()
    if expiry <= now.timestamp():
        raise PassExpired()
    if invitation in revoked:
        raise PassRevoked()
    return PassClaims(building, invitation, nonce, datetime.fromtimestamp(expiry, UTC))


# -- the console's key -----------------------------------------------------------------


def key_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / KEY_FILE


def load_or_create_key(data_dir: str | Path) -> Ed25519PrivateKey:
    """The building's signing key, made on first use in DATA_DIR (0600, like the
    secret key: console/settings.py). O_EXCL: two processes starting at once keep one."""
    path = key_path(data_dir)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Written whole to a private temporary file, then linked into place: a reader
        # (another request thread or process using the key at the same moment) never
        # sees a half-written key, and link() fails if someone else's is already there.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(pem)
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass  # another thread or process made it first: read theirs
        finally:
            temporary.unlink(missing_ok=True)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise LobbyDeskError(f"{path} does not hold an Ed25519 key")
    return key


def published(key) -> dict:
    """What kiosks keep to verify passes offline: the raw public key, base64url."""
    raw = public_key_of(key).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {"algorithm": "Ed25519", "public_key": _b64encode(raw), "scheme": SCHEME}
