"""A Hypothesis state machine over the kiosk outbox and the real console:
enqueue, send, drop the request, drop the response, kill mid-send, restart,
duplicate delivery — and in the end the console holds each item exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from console.server import ConsoleServer
from kiosk.client import RETRYABLE, ConsoleClient, Result
from kiosk.outbox import ACKED, Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared import kiosks
from shared.clock import FrozenClock, to_iso
from tests.helpers import building_db, make_app


class FaultyNetwork(ConsoleClient):
    """The real client over real HTTP, with the network's two ways to fail."""

    fault: str | None = None

    def send(self, item, outbox_depth):
        fault, self.fault = self.fault, None
        if fault == "drop_request":
            return Result(RETRYABLE, message="connection failed: request lost")
        result = super().send(item, outbox_depth)
        if fault == "drop_response":
            return Result(RETRYABLE, message="connection reset: answer lost")
        return result


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("console"))
    server = ConsoleServer(app).start_in_background()
    yield app, server
    server.stop()


def test_each_queued_item_reaches_the_console_exactly_once(console, tmp_path_factory):
    app, server = console

    class OutboxMachine(RuleBasedStateMachine):
        @initialize()
        def pair_a_new_kiosk(self):
            db = building_db(app)
            clock = app.extensions["lobbydesk.clock"]
            created = kiosks.create(db, clock, building_id=1, name="machine", actor="test")
            answer = kiosks.pair(db, clock, created["pairing_code"])
            db.close()
            self.kiosk_id = created["id"]
            self.path = tmp_path_factory.mktemp("kiosk") / "kiosk.db"
            self.clock = FrozenClock("2026-11-27T09:00:00+00:00")
            self.store = KioskStore.open(self.path, self.clock)
            self.store.save_pairing(answer)
            self.network = FaultyNetwork(server.url, answer["token"])
            self.sent_copies = {}  # outbox id -> (key, body): what a duplicate would resend
            self.expected = []
            self._restart()

        def _restart(self):
            self.outbox = Outbox(self.store)
            self.outbox.recover()
            self.worker = SyncWorker(self.store, self.network, clock=self.clock)

        @rule()
        def enqueue(self):
            stamp = to_iso(self.clock.now() + timedelta(microseconds=len(self.expected)))
            body = {"kind": "help", "created_at": stamp, "language": "zh_CN", "screen": "home"}
            outbox_id = self.outbox.enqueue("escalation.help", "/api/v1/escalations", body)
            self.sent_copies[outbox_id] = (self.outbox.get(outbox_id).idempotency_key, body)
            self.expected.append(stamp)

        @rule(fault=st.sampled_from([None, "drop_request", "drop_response"]))
        def send(self, fault):
            self.clock.advance(hours=1)  # whatever was backing off is due again
            self.network.fault = fault
            self.worker.drain_once(self.outbox)
            self.network.fault = None

        @precondition(lambda self: self.outbox.head() is not None)
        @rule(reached_console=st.booleans())
        def kill_mid_send(self, reached_console):
            head = self.outbox.head()
            self.outbox.mark_in_flight(head.id)
            if reached_console:
                self.network.send(head, self.outbox.depth())
            self.store.close()  # the process dies here: no ack recorded
            self.store = KioskStore.open(self.path, self.clock)
            self._restart()

        @precondition(lambda self: any(i.state == ACKED for i in self.outbox.items()))
        @rule(data=st.data())
        def duplicate_delivery(self, data):
            acked = [i.id for i in self.outbox.items() if i.state == ACKED]
            outbox_id = data.draw(st.sampled_from(acked))
            key, body = self.sent_copies[outbox_id]
            again = requests.post(
                f"{server.url}/api/v1/escalations", json=body, timeout=5,
                headers={"Authorization": f"Bearer {self.network.token}", "Idempotency-Key": key},
            )  # fmt: skip
            assert again.status_code == 201
            assert again.json() == self.outbox.get(outbox_id).response_json

        def teardown(self):
            self.network.fault = None
            for _ in range(100):
                self.clock.advance(hours=1)
                if self.worker.drain_once(self.outbox) is None:
                    break
            rows = list(
                building_db(app).query(
                    "SELECT created_at FROM escalations WHERE kiosk_id = ? ORDER BY id",
                    (self.kiosk_id,),
                )
            )
            assert sorted(r["created_at"] for r in rows) == sorted(self.expected)
            assert {i.state for i in self.outbox.items()} <= {ACKED}
            self.store.close()
            self.network.close()

    run_state_machine_as_test(
        OutboxMachine,
        settings=settings(
            max_examples=25, stateful_step_count=15, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )  # fmt: skip
