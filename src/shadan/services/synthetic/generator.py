"""The synthetic operator of area 06 (関西電力送配電) as one value: registry, calendar, companies, staff."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from shadan.domain.identity import Company
from shadan.domain.registry import ReadingDay, Retailer, SupplyPoint
from shadan.domain.vocabulary import Area
from shadan.services.synthetic.calendar import reading_calendar
from shadan.services.synthetic.defaults import DEFAULT_SEED, DEFAULT_SIZE
from shadan.services.synthetic.market import MARKET
from shadan.services.synthetic.names import name_pools
from shadan.services.synthetic.points import PointFactory
from shadan.services.synthetic.staff import COMPANIES, StaffMember, generate_staff

AREA = Area.KANSAI
CALENDAR_MONTHS = 26  # the month before `start`, then two years ahead: every 次々回検針日 is covered


@dataclass(frozen=True, slots=True)
class SyntheticOperator:
    seed: int
    start: dt.date
    retailers: tuple[Retailer, ...]
    supply_points: tuple[SupplyPoint, ...]
    reading_days: tuple[ReadingDay, ...]
    companies: tuple[Company, ...]
    staff: tuple[StaffMember, ...]


def generate(
    size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED, start: dt.date | None = None
) -> SyntheticOperator:
    """A deterministic operator: the same size, seed and start date always give the same data."""
    if size < 1:
        raise ValueError("size must be at least 1")
    start = start or dt.date.today()
    # Separate streams, so changing the number of points does not change the staff, and vice versa.
    point_rng, staff_rng, place_rng = (
        random.Random(f"{seed}:{part}")  # noqa: S311 - reproducible synthetic data, not secrets
        for part in ("points", "staff", "places")
    )
    names = name_pools()
    factory = PointFactory(AREA, point_rng, names, MARKET, place_rng)
    calendar_start = dt.date(start.year, start.month, 1) - dt.timedelta(days=1)
    return SyntheticOperator(
        seed=seed,
        start=start,
        retailers=tuple(p.retailer for p in MARKET),
        supply_points=tuple(factory.points(size)),
        reading_days=tuple(ReadingDay(s, d) for s, d in reading_calendar(calendar_start, CALENDAR_MONTHS)),
        companies=COMPANIES,
        staff=tuple(generate_staff(staff_rng, names)),
    )
