"""Named domain errors. The edges (API, pages, kiosk) turn them into messages."""


class LobbyDeskError(Exception):
    """Base class; `code` is stable and is what clients switch on."""

    code = "error"
    http_status = 400

    def __init__(self, message: str | None = None):
        super().__init__(message or self.__doc__ or self.code)


class NotFound(LobbyDeskError):
    """记录不存在 · The record does not exist."""

    code = "not_found"
    http_status = 404


class PairingCodeInvalid(LobbyDeskError):
    """配对码无效，请在控制台的终端页面核对 · This pairing code is not known. Check it on the console's kiosk page."""

    code = "pairing_code_invalid"
    http_status = 400


class PairingCodeUsed(LobbyDeskError):
    """配对码已使用，请在控制台重新生成 · This pairing code was already used. Create a new one on the console."""

    code = "pairing_code_used"
    http_status = 409


class PairingCodeExpired(LobbyDeskError):
    """配对码已过期，请在控制台重新生成 · This pairing code has expired. Create a new one on the console."""

    code = "pairing_code_expired"
    http_status = 410


class KioskNotAuthorised(LobbyDeskError):
    """终端未授权，请重新配对 · The kiosk token is missing, unknown or revoked. Pair the kiosk again."""

    code = "kiosk_not_authorised"
    http_status = 401


class InvalidRequest(LobbyDeskError):
    """请求格式不正确 · The request does not match what the API expects."""

    code = "invalid_request"
    http_status = 400


class IdempotencyKeyMissing(LobbyDeskError):
    """每次写入都需要 Idempotency-Key 请求头 · Every write needs an Idempotency-Key header."""

    code = "idempotency_key_missing"
    http_status = 400


class IdempotencyKeyReused(LobbyDeskError):
    """该 Idempotency-Key 已用于另一个请求 · This Idempotency-Key was already used with a different request body."""

    code = "idempotency_key_reused"
    http_status = 422


class StaleState(LobbyDeskError):
    """记录已被他人修改，请刷新查看 · Someone else changed this record first; reload to see its state."""

    code = "stale_state"
    http_status = 409


class WeakPassword(LobbyDeskError):
    """密码不符合要求 · The password does not meet the rules."""

    code = "weak_password"


class DatabaseSettingsWrong(LobbyDeskError):
    """数据库连接缺少必需的持久化设置 · The database connection does not have the durability settings we require."""

    code = "database_settings_wrong"
    http_status = 500
