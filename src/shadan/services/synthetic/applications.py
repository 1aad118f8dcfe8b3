"""Switching applications for the synthetic operator: 廃止取次 and 開始申込 files (DESIGN §5.2 columns).

From the operator's registry points, `demo_applications` writes cancellations received over the last six
months by several sales agents of each new retailer: a share carry one real error, split by the seed's
shares, some differ from the registry only in form (hiragana kana, 高 for 髙, a hyphenated address without
the prefecture), which normalisation forgives and `--strict` would reject. One agent files an unusual
number of applications in the last days and most of them are to be withdrawn. Start applications follow
for part of the recent accepted cancellations, so they match. The same operator, seed and instant always
give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from shadan.domain.business_days import cancel_window, received_date
from shadan.domain.japan_time import JST
from shadan.domain.registry import SupplyPoint, SupplyPointKind, SupplyPointStatus, Voltage
from shadan.services.synthetic.generator import SyntheticOperator
from shadan.services.synthetic.market import AFFILIATED_CODE
from shadan.services.synthetic.names import name_pools
from shadan.services.synthetic.points import kanji_number

SHARES = {"01": 15.1, "02": 35.1, "03": 2.5, "04": 35.3, "05": 2.9, "06": 3.2, "07": 0.2, "99": 5.5}
ERROR_RATE = 0.3
FORMAT_RATE = 0.15
MAX_APPLICATIONS = 400
AGENTS_PER_RETAILER = 4
SURGE = 60  # the unusual agent's applications in the last days
PEER_RECENT = 4  # applications of each of its peers in the same days
WITHDRAWN_SHARE = 0.7  # of the unusual agent's accepted ones
MATCHED_SHARE = 0.6  # of the other recent accepted ones
HISTORY_DAYS = 182
RECENT_HOURS = 40  # received this recently, a half is still within its matching deadline
CANCELLATION_COLUMNS = (
    "application_id", "received_at", "supply_point_id", "current_retailer_code", "contract_no",
    "address", "building", "name_kana", "name_kanji", "cancel_date", "new_retailer_code",
    "new_retailer_staff", "new_retailer_phone",
)  # fmt: skip
START_COLUMNS = (
    "application_id", "received_at", "supply_point_id", "new_retailer_code", "start_date",
    "new_retailer_staff", "new_retailer_phone",
)  # fmt: skip
_CHOME = re.compile(r"^(?P<head>.+?)(?P<chome>[一二三四五六七八九十]+)丁目(?P<ban>\d+)番(?P<go>\d+)号$")
_KANJI_NUMBERS = {kanji_number(n): n for n in range(1, 100)}
_PHONE = "06-6000-0000"


@dataclass(frozen=True, slots=True)
class Cancellation:
    application_id: str
    received_at: dt.datetime
    point: SupplyPoint
    supply_point_id: str
    current_retailer_code: str
    contract_no: str
    address: str
    name_kana: str
    name_kanji: str
    cancel_date: dt.date
    new_retailer_code: str
    staff: str
    planted: str  # the code planted, "" for a clean application, "fmt" for a difference of form only


@dataclass(frozen=True, slots=True)
class DemoApplications:
    cancellations: bytes
    starts: bytes
    withdrawals: tuple[tuple[str, str], ...]  # (application id, new retailer code), once submitted
    planted: Counter[str]
    start_count: int

    @property
    def cancellation_count(self) -> int:
        return self.planted.total()


def demo_applications(operator: SyntheticOperator, now: dt.datetime) -> DemoApplications:
    rng = random.Random(f"{operator.seed}:applications:{now.isoformat()}")  # noqa: S311 - synthetic data
    planter = _Planter(operator, rng, now)
    apps = planter.plan()
    surge = [a for a in apps if a.staff == planter.unusual_agent and a.planted in ("", "fmt")]
    withdrawn = surge[: round(len(surge) * WITHDRAWN_SHARE)]
    recent = [a for a in apps if a.planted in ("", "fmt") and planter.is_recent(a) and a not in surge]
    starts = [a for a in recent if rng.random() < MATCHED_SHARE]
    return DemoApplications(
        cancellations=_csv(CANCELLATION_COLUMNS, [_cancellation_row(a) for a in apps]),
        starts=_csv(START_COLUMNS, [_start_row(a) for a in starts]),
        withdrawals=tuple((a.application_id, a.new_retailer_code) for a in withdrawn),
        planted=Counter(a.planted for a in apps),
        start_count=len(starts),
    )


class _Planter:
    def __init__(self, operator: SyntheticOperator, rng: random.Random, now: dt.datetime) -> None:
        self._rng = rng
        self._now = now
        self._days: dict[str, list[dt.date]] = defaultdict(list)
        for day in operator.reading_days:
            self._days[day.reading_schedule].append(day.date)
        by_kind = defaultdict(list)
        for point in operator.supply_points:
            by_kind[_kind(point)].append(point)
        self._points = by_kind
        self._clean = iter(rng.sample(by_kind["clean"], len(by_kind["clean"])))
        self._ids = {p.supply_point_id for p in operator.supply_points}
        retailers = [r.retailer_code for r in operator.retailers]
        self._retailers = [code for code in retailers if code != AFFILIATED_CODE]
        names = name_pools()
        self._agents = {
            code: [names.person(rng).kanji for _ in range(AGENTS_PER_RETAILER)] for code in self._retailers
        }
        self.unusual_agent = self._agents[self._retailers[0]][0]
        self._count = min(MAX_APPLICATIONS, len(by_kind["clean"]) // 4)
        self._surge = min(SURGE, len(by_kind["clean"]) // 4)

    def is_recent(self, app: Cancellation) -> bool:
        return self._now - app.received_at < dt.timedelta(hours=RECENT_HOURS)

    def plan(self) -> list[Cancellation]:
        errors = round(self._count * ERROR_RATE)
        total = sum(SHARES.values())
        codes = [code for code, share in SHARES.items() for _ in range(round(errors * share / total))]
        codes += [""] * (self._count - len(codes))
        self._rng.shuffle(codes)
        apps = [self._planted(i, code) for i, code in enumerate(codes)]
        retailer = self._retailers[0]
        peers = self._agents[retailer][1:]
        others = iter([p for p in self._clean if p.retailer_code != retailer])
        # The unusual agent's surge, and a few recent ones of each of its peers: the volume signal needs
        # every peer in the surge's period to have a baseline, which chance alone does not always give.
        staff = [self.unusual_agent] * self._surge + [agent for agent in peers for _ in range(PEER_RECENT)]
        for i, (agent, point) in enumerate(zip(staff, others, strict=False), start=len(apps)):
            apps.append(self._clean_app(i, agent, retailer, self._recent(), point))
        return sorted(apps, key=lambda a: a.received_at)

    def _planted(self, index: int, code: str) -> Cancellation:
        app = self._clean_app(index)
        return self._error(app, code, index) if code else self._maybe_formatted(app)

    def _clean_app(
        self,
        index: int,
        staff: str = "",
        retailer: str = "",
        received: dt.datetime | None = None,
        point: SupplyPoint | None = None,
    ) -> Cancellation:
        rng = self._rng
        point = point or next(self._clean)
        received = received or self._received()
        new = retailer or rng.choice([c for c in self._retailers if c != point.retailer_code])
        return Cancellation(
            application_id=f"DEMO-{index:05d}",
            received_at=received,
            point=point,
            supply_point_id=point.supply_point_id,
            current_retailer_code=point.retailer_code,
            contract_no=point.contract_no,
            address=point.address,
            name_kana=point.name_kana,
            name_kanji=point.name_kanji,
            cancel_date=self._cancel_date(point, received_date(received)),
            new_retailer_code=new,
            staff=staff
            or rng.choice(self._agents[new][1:] if new == self._retailers[0] else self._agents[new]),
            planted="",
        )

    def _received(self) -> dt.datetime:
        if self._rng.random() < 0.1:
            return self._recent()
        seconds = self._rng.randrange(3 * 86_400, HISTORY_DAYS * 86_400)
        return (self._now - dt.timedelta(seconds=seconds)).replace(microsecond=0)

    def _recent(self) -> dt.datetime:
        seconds = self._rng.randrange(3_600, (RECENT_HOURS - 4) * 3_600)
        return (self._now - dt.timedelta(seconds=seconds)).replace(microsecond=0)

    def _cancel_date(self, point: SupplyPoint, received: dt.date) -> dt.date:
        window = cancel_window(received, self._days[point.reading_schedule])
        latest = window.latest or window.earliest + dt.timedelta(days=30)
        span = max((latest - window.earliest).days - 1, 0)
        return window.earliest + dt.timedelta(days=self._rng.randint(0, min(span, 10)))

    def _maybe_formatted(self, app: Cancellation) -> Cancellation:
        if self._rng.random() >= FORMAT_RATE:
            return app
        styles = ["hiragana"]
        if any(c in app.name_kanji for c in "髙﨑濵"):
            styles.append("variant")
        if _CHOME.match(app.address):
            styles.append("hyphens")
        style = self._rng.choice(styles)
        if style == "hiragana":
            kana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in app.name_kana)
            return replace(app, name_kana=kana, planted="fmt")
        if style == "variant":
            return replace(
                app, name_kanji=app.name_kanji.translate(str.maketrans("髙﨑濵", "高崎浜")), planted="fmt"
            )
        return replace(app, address=_hyphenated(app.address), planted="fmt")

    def _error(self, app: Cancellation, code: str, index: int) -> Cancellation:
        half = self._rng.random() < 0.5
        special = {"03": "pending", "07": "not_target", "99": "locked"}.get(code)
        if special and self._points[special] and (code != "99" or half):
            point = self._points[special].pop()
            return replace(self._clean_app(index, point=point), planted=code)
        if code in ("03", "07", "99"):
            # 99 by retailer, and 03 or 07 when the registry has none of those points.
            return replace(app, new_retailer_code=app.current_retailer_code, planted="99")
        return replace(self._mutated(app, code, half), planted=code)

    def _mutated(self, app: Cancellation, code: str, half: bool) -> Cancellation:
        if code == "01" and half:
            return replace(app, supply_point_id=self._unknown_id(app.supply_point_id))
        if code == "01":
            other = next(c for c in [AFFILIATED_CODE, *self._retailers] if c != app.current_retailer_code)
            return replace(app, current_retailer_code=other)
        if code == "02":
            return replace(app, contract_no=_other_digit(app.contract_no))
        if code == "04":
            name = name_pools().person(self._rng)
            return replace(app, name_kanji=name.kanji, name_kana=name.kana)
        if code == "05":
            return replace(app, address=_other_number(app.address))
        return replace(app, cancel_date=received_date(app.received_at))  # 06: too early

    def _unknown_id(self, supply_point_id: str) -> str:
        for candidate in _variants(supply_point_id):
            if candidate not in self._ids:
                return candidate
        raise ValueError("no unused supply point id")  # pragma: no cover - 10 variants cannot all exist


def _kind(point: SupplyPoint) -> str:
    if point.kind is not SupplyPointKind.DEMAND or point.voltage is not Voltage.LOW:
        return "other"
    if not point.switching_target:
        return "not_target" if point.status is SupplyPointStatus.ACTIVE else "other"
    return {
        SupplyPointStatus.ACTIVE: "clean",
        SupplyPointStatus.PENDING_CANCELLATION: "pending",
        SupplyPointStatus.LOCKED: "locked",
    }[point.status]


def _variants(supply_point_id: str) -> Iterator[str]:
    head, last = supply_point_id[:-1], int(supply_point_id[-1])
    return (f"{head}{(last + k) % 10}" for k in range(1, 10))


def _other_digit(contract_no: str) -> str:
    position = max(i for i, c in enumerate(contract_no) if c.isdigit())
    digit = (int(contract_no[position]) + 1) % 10
    return f"{contract_no[:position]}{digit}{contract_no[position + 1 :]}"


def _other_number(address: str) -> str:
    """Another lot: the last number of the address plus one (a real mismatch, 05)."""
    match = list(re.finditer(r"\d+", address))[-1]
    return f"{address[: match.start()]}{int(match.group()) + 1}{address[match.end() :]}"


def _hyphenated(address: str) -> str:
    """大阪府大阪市北区梅田一丁目3番5号 → 大阪市北区梅田1-3-5 (normalisation reads both as one address)."""
    match = _CHOME.match(address)
    if match is None:
        return address
    head = re.sub(r"^.+?[都道府県]", "", match["head"], count=1)
    return f"{head}{_KANJI_NUMBERS[match['chome']]}-{match['ban']}-{match['go']}"


def _cancellation_row(a: Cancellation) -> Sequence[str]:
    return (
        a.application_id, a.received_at.astimezone(JST).isoformat(timespec="seconds"), a.supply_point_id,
        a.current_retailer_code, a.contract_no, a.address, a.point.building, a.name_kana, a.name_kanji,
        a.cancel_date.isoformat(), a.new_retailer_code, a.staff, _PHONE,
    )  # fmt: skip


def _start_row(a: Cancellation) -> Sequence[str]:
    received = a.received_at + dt.timedelta(minutes=30)
    return (
        f"{a.application_id}-S", received.astimezone(JST).isoformat(timespec="seconds"), a.supply_point_id,
        a.new_retailer_code, a.cancel_date.isoformat(), a.staff, _PHONE,
    )  # fmt: skip


def _csv(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
