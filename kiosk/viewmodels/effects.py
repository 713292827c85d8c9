"""What a view-model asks the app to do: read from the console, or queue a write.

View-models stay free of I/O: an action returns one of these (or None) and the
app carries it out, on the query worker or through the outbox, then hands the
answer back to the view-model method named in `then`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Query:
    """A read-only console call on the query worker (kiosk/queries.py).

    `call` names a ConsoleClient method; the answer (a client Result) goes to
    the view-model's `then(generation, result)`. `generation` lets the
    view-model ignore an answer meant for the previous visitor.
    """

    call: str
    args: tuple
    then: str
    generation: int


@dataclass(frozen=True)
class Enqueue:
    """A write through the outbox: durable at once, sent by the SyncWorker."""

    kind: str
    path: str
    body: dict = field(default_factory=dict)
    method: str = "POST"
