"""The pieces every path declaration is made of: errors, bodies, the write headers."""

from __future__ import annotations

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
TIME = {"type": "string", "format": "date-time", "maxLength": 40}
KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Made once when the item is queued; reused on every retry.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
}
DEPTH = {
    "name": "X-Outbox-Depth",
    "in": "header",
    "required": False,
    "description": "How many items the kiosk still has to send (heartbeat).",
    "schema": {"type": "string", "pattern": "^[0-9]{1,7}$"},
}


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending this request again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def errors(*statuses: int) -> dict:
    answers = {}
    for status in statuses:
        answer = {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        if status == 429:
            answer["description"] = "too many requests: wait Retry-After seconds"
            answer["headers"] = RETRY_AFTER
        answers[str(status)] = answer
    return answers


def rate_limited_writes(paths: dict) -> dict:
    """Every write (it carries an Idempotency-Key) may be refused with 429 + Retry-After:
    the kiosk's allowance of new writes (a burst, then about one a second) is used up.
    A replayed key is never refused."""
    for item in paths.values():
        for operation in item.values():
            if KEY in operation.get("parameters", []):
                operation["responses"].setdefault("429", errors(429)["429"])
    return paths


def json_answer(schema: dict, description: str = "ok") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def closed_object(required: list[str], properties: dict) -> dict:
    """A JSON object of these properties and no others, the required ones named."""
    return {
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": properties,
    }


def kiosk_write(*, summary: str, request: dict, responses: dict, description: str = "") -> dict:
    """A write from the kiosk's outbox: it carries its Idempotency-Key and the outbox depth
    (rate_limited_writes adds its 429), and a JSON body."""
    operation = {"summary": summary}
    if description:
        operation["description"] = description
    operation |= {"parameters": [KEY, DEPTH], "requestBody": body(request), "responses": responses}
    return operation


LANGUAGE = {"type": "string", "enum": ["zh_CN", "en"]}  # what the kiosk shows the visitor
PHONE = {"type": "string", "maxLength": 20, "description": "Chinese mobile (11 digits) or E.164"}
COMMON_ERRORS = (400, 401, 413)
