"""Staff passwords: argon2id at OWASP's minimum (SECURITY.md 1).

m = 19 MiB, t = 2, p = 1 costs about 25 ms here. Tests use a cheap hasher,
only through `hasher(cheap=True)`, which the console allows only in testing.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 128

# The most common passwords of the public breach lists, plus the desk's own
# obvious ones. A short list: the real defence is throttling and length.
_COMMON = frozenset(
    """
    12345678 123456789 1234567890 password password1 password123 qwertyui qwerty123
    11111111 00000000 88888888 66666666 12341234 87654321 iloveyou abc12345 abcd1234
    a1234567 1qaz2wsx qwe12345 admin123 administrator welcome1 changeme letmein1
    zxcvbnm1 asdfghjk 1q2w3e4r woaini1314 lobbydesk reception
    qwertyuiop 123123123 987654321 11223344 12344321 1q2w3e4r5t zaq12wsx 1qaz2wsx3edc
    aa123456 qq123456 a123456789 abc123456 5201314520 woaini520 iloveyou1 p@ssw0rd
    passw0rd password! welcome123 admin1234 admin888 sunshine princess football
    baseball superman trustno1 starwars dragon123 monkey123 qwerty12345 1234qwer
    11111111a 00000000a 1234abcd zxcvbnm123 asdf1234 qazwsxedc manager1 front-desk
    """.split()
)


def hasher(cheap: bool = False) -> PasswordHasher:
    if cheap:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


def check_rules(password: str) -> None:
    """Length counts characters, so a CJK pass-phrase is as long as it looks."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"密码至少 {MIN_LENGTH} 个字符 · Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"密码最多 {MAX_LENGTH} 个字符 · Use at most {MAX_LENGTH} characters.")
    if password.lower() in _COMMON:
        raise WeakPassword(
            "这是最常见的密码之一，请换一个 · That password is one of the most common; choose another."
        )


def verify(password_hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
