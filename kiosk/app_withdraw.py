"""The App's side of kiosk/outbox_policy.py: each item withdrawn there is told to the
flows as if the console had refused it. A mixin of LobbyKioskApp."""

from __future__ import annotations

from kiosk import outbox_policy


class OutboxWithdrawals:
    def withdraw_stale_pickups(self, starting: bool = False) -> None:
        now = self.clock.now()
        for item in outbox_policy.withdraw_stale_pickups(self.outbox, self.parcel, now, starting):
            self.sync_dead(item.outbox_id, item.kind, item.refusal)

    def withdraw_refused_ratings(self) -> None:
        for item in outbox_policy.withdraw_refused_ratings(self.outbox):
            self.sync_dead(item.outbox_id, item.kind, item.refusal)
