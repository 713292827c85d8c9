"""The kiosk API described as OpenAPI 3, served at /api/v1/openapi.json.

Kept true by tests: every /api/v1 route is described here and nothing else is
(tests/test_openapi.py), and schemathesis drives the live server from this
document (no 5xx, no invalid input accepted).

One module of path declarations per feature; `document` puts them together in the
order they are served.
"""

from __future__ import annotations

from console.openapi import (
    announcements,
    batch,
    desk,
    invitations,
    kiosk,
    parcels,
    tickets,
    visitors,
)
from console.openapi.parts import json_answer, rate_limited_writes
from shared.protocol import API_PREFIX

_THIS_DOCUMENT = {
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": json_answer({"type": "object"})},
        }
    },
}


def document(long_poll_seconds: float) -> dict:
    paths = {
        **kiosk.pairing(),
        **desk.paths(),
        **kiosk.feed(long_poll_seconds),
        **visitors.paths(),
        **parcels.paths(),
        **tickets.paths(),
        **batch.paths(),
        **invitations.paths(),
        **announcements.paths(),
        **_THIS_DOCUMENT,
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Lobby Desk kiosk API",
            "version": "1",
            "description": "What a lobby kiosk may ask of its console. Every write carries an "
            "Idempotency-Key (same key → the original answer; same key, other body → 422). "
            "New writes are rate-limited per kiosk (a burst, then about one a second): 429 "
            '{"error": {"code": "rate_limited", "message", "retry_after"}} with Retry-After; '
            "a replayed key is never limited.",
        },
        "servers": [{"url": API_PREFIX}],
        "components": {"securitySchemes": {"kiosk": {"type": "http", "scheme": "bearer"}}},
        "security": [{"kiosk": []}],
        "paths": rate_limited_writes(paths),
    }
