"""マッチング, expiry and withdrawal of stored halves, inside the caller's unit of work.

Each step changes application states (only from `pending`, guarded in the store), moves the supply point's
registry status, and appends one history entry per application changed, so a supply point's history
says who changed what, when and why.

Registry status: an accepted cancellation makes the point `pending_cancellation`; a match makes it
`locked`; a cancellation that expires or is withdrawn returns it to `active`. A start application never
changes it on its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from shadan.domain.errors import InvalidInput
from shadan.domain.registry import SupplyPointStatus
from shadan.domain.switching_case import (
    CaseState,
    Half,
    HistoryEntry,
    StoredRow,
    SwitchingConflict,
    WaitingHalf,
    has_expired,
    match_deadline,
    partner_of,
)
from shadan.services.ports import UnitOfWork

CONFLICT_MESSAGE = (
    "供給地点の状態が他の処理で変わっていたため、何も登録していません。もう一度お試しください。"
)
_OTHER_HALF = {Half.CANCEL: Half.START, Half.START: Half.CANCEL}


class CaseKeeper:
    """The state changes of one unit of work, by one actor, at one server time."""

    def __init__(self, uow: UnitOfWork, actor_id: str, now: dt.datetime, match_days: int) -> None:
        self._uow = uow
        self._actor_id = actor_id
        self._now = now
        self._days = match_days

    def deadline(self, received_at: dt.datetime) -> dt.date:
        return match_deadline(received_at, self._days)

    def accept(self, halves: Sequence[WaitingHalf]) -> list[HistoryEntry]:
        """Newly stored pending halves: a cancellation makes its supply point pending_cancellation."""
        points = [h.supply_point_id for h in halves if h.half is Half.CANCEL]
        before, after = SupplyPointStatus.ACTIVE, SupplyPointStatus.PENDING_CANCELLATION
        # The checks saw these points active; if another transaction changed one since, nothing is kept.
        if self._uow.switching.change_point_status(points, before, after) != len(set(points)):
            raise SwitchingConflict(CONFLICT_MESSAGE)
        reasons = {
            h.row_id: f"{h.half.label}を受け付けました（マッチング期限 {self.deadline(h.received_at)}）。"
            for h in halves
        }
        return self._record(halves, CaseState.PENDING, reasons)

    def expire(self) -> list[HistoryEntry]:
        """Every pending half whose deadline day has passed (JST) becomes expired."""
        # n business days are at least n calendar days: nothing received since then can have expired.
        candidates = self._uow.switching.waiting_received_before(self._now - dt.timedelta(days=self._days))
        stale = [h for h in candidates if has_expired(h, self._now, self._days)]
        if not stale:
            return []
        self._uow.switching.change_state([h.row_id for h in stale], CaseState.EXPIRED, self._now)
        self._return_to_active([h.supply_point_id for h in stale if h.half is Half.CANCEL])
        reasons = {
            h.row_id: (
                f"マッチング期限（{self.deadline(h.received_at)}）までに対となる{_OTHER_HALF[h.half].label}"
                "（同じ新小売事業者・同じ日付）が届かなかったため、期限切れとしました。"
            )
            for h in stale
        }
        return self._record(stale, CaseState.EXPIRED, reasons)

    def match(self, arrived: Sequence[WaitingHalf]) -> list[HistoryEntry]:
        """Pair each newly arrived half with a waiting half of the other kind; a pair locks its point."""
        waiting: dict[str, list[WaitingHalf]] = defaultdict(list)
        for h in self._uow.switching.waiting_on({h.supply_point_id for h in arrived}):
            waiting[h.supply_point_id].append(h)
        pairs: list[tuple[WaitingHalf, WaitingHalf]] = []
        taken: set[int] = set()
        for half in sorted(arrived, key=lambda h: (h.received_at, h.application_id)):
            if half.row_id in taken:
                continue
            free = (h for h in waiting[half.supply_point_id] if h.row_id not in taken)
            partner = partner_of(half, free, self._days)
            if partner is not None:
                pairs.append((half, partner))
                taken |= {half.row_id, partner.row_id}
        if not pairs:
            return []
        partners = {a.row_id: b.row_id for a, b in pairs} | {b.row_id: a.row_id for a, b in pairs}
        self._uow.switching.change_state(list(partners), CaseState.MATCHED, self._now, partners)
        points = [a.supply_point_id for a, _ in pairs]
        before, after = SupplyPointStatus.PENDING_CANCELLATION, SupplyPointStatus.LOCKED
        if self._uow.switching.change_point_status(points, before, after) != len(set(points)):
            raise SwitchingConflict(CONFLICT_MESSAGE)
        halves, reasons = [], {}
        for a, b in pairs:
            for half, other in ((a, b), (b, a)):
                halves.append(half)
                reasons[half.row_id] = (
                    f"{other.half.label}「{other.application_id}」とマッチングしました"
                    f"（スイッチング成立、{half.switch_date}）。以後、この申込は変更・取下げできません。"
                )
        return self._record(halves, CaseState.MATCHED, reasons)

    def withdraw(self, row: StoredRow, reason: str) -> list[HistoryEntry]:
        """Take back a pending half (取下げ); a matched one is locked."""
        state = row.record.state
        if state is CaseState.MATCHED:
            raise InvalidInput(
                f"申込「{row.record.application_id}」はマッチング済み（スイッチング成立）のため、取下げできません。"
            )
        if state is not CaseState.PENDING:
            raise InvalidInput(
                f"申込「{row.record.application_id}」は「{state.label}」のため、取下げできません"
                "（取下げできるのはマッチング待ちの申込だけです）。"
            )
        self._uow.switching.change_state([row.row_id], CaseState.WITHDRAWN, self._now)
        half = waiting_half(row)
        if half.half is Half.CANCEL:
            self._return_to_active([half.supply_point_id])
        return self._record([half], CaseState.WITHDRAWN, {row.row_id: f"取下げ: {reason}"})

    def _return_to_active(self, points: Iterable[str]) -> None:
        # Only a point these cancellations made pending; one a registry import has set otherwise is left.
        points = list(points)
        if points:
            before, after = SupplyPointStatus.PENDING_CANCELLATION, SupplyPointStatus.ACTIVE
            self._uow.switching.change_point_status(points, before, after)

    def _record(
        self, halves: Sequence[WaitingHalf], state: CaseState, reasons: dict[int, str]
    ) -> list[HistoryEntry]:
        statuses = self._uow.registry.supply_points_by_ids({h.supply_point_id for h in halves})
        entries = [
            HistoryEntry(
                supply_point_id=h.supply_point_id,
                row_id=h.row_id,
                application_id=h.application_id,
                half=h.half,
                state=state,
                registry_status=statuses[h.supply_point_id].status,
                changed_by=self._actor_id,
                changed_at=self._now,
                reason=reasons[h.row_id],
            )
            for h in halves
        ]
        self._uow.switching.add_history(entries)
        return entries


def waiting_half(row: StoredRow) -> WaitingHalf:
    """A stored well-formed row as matching reads it."""
    record = row.record
    if record.received_at is None or record.switch_date is None:
        raise ValueError("only well-formed rows take part in matching")
    return WaitingHalf(
        row_id=row.row_id,
        half=record.half,
        application_id=record.application_id,
        supply_point_id=record.supply_point_id,
        new_retailer_code=record.new_retailer_code,
        switch_date=record.switch_date,
        received_at=record.received_at,
    )
