"""Supply points of the synthetic operator: demand and generation points with their current contracts.

Everything slow (name pools, places, reading schedules per town) is built once; each point is then a
handful of draws from one `random.Random`, so 100,000 points take about a second and the same seed always
gives the same points.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from shadan.domain.registry import SupplyPoint, SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.vocabulary import Area
from shadan.services.synthetic.calendar import SCHEDULES
from shadan.services.synthetic.market import RetailerPicker, RetailerProfile
from shadan.services.synthetic.names import Name, NamePools, corporation
from shadan.services.synthetic.places import BUILDING_NAMES, MUNICIPALITIES, Municipality, Town

KANJI_DIGITS = "〇一二三四五六七八九"
GENERATION_SHARE = 0.03  # mostly rooftop solar sold under purchase contracts
POINTS_PER_TRANSFORMER = 8  # a pole transformer serves a handful of low-voltage customers
TRANSFORMERS_PER_FEEDER = 60


@dataclass(frozen=True, slots=True)
class Place:
    """A town of a municipality, with the office code and the reading schedule of its meter route."""

    municipality: Municipality
    town: Town
    office: str
    schedule: str


def kanji_number(n: int) -> str:
    """1–99 in kanji numerals as written in 丁目 (十二丁目, 二十丁目)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else KANJI_DIGITS[tens] + "十")
    return head + (KANJI_DIGITS[ones] if ones else "")


def build_places(rng: random.Random) -> list[Place]:
    """Every town once, cities weighted up by repeating them (they hold most of the customers)."""
    places = []
    for index, municipality in enumerate(MUNICIPALITIES):
        office = f"{1000 + 10 * index:04d}"
        for town in municipality.towns:
            place = Place(municipality, town, office, rng.choice(SCHEDULES))
            places.extend([place] * (3 if municipality.urban else 1))
    return places


class PointFactory:
    """Draws supply points one by one; counters per office give nearby points shared equipment."""

    def __init__(
        self,
        area: Area,
        rng: random.Random,
        names: NamePools,
        retailers: tuple[RetailerProfile, ...],
        place_rng: random.Random,
    ) -> None:
        self._area = area
        self._rng = rng
        self._names = names
        self._retailers = RetailerPicker(retailers)
        # Places come from their own stream, so a town keeps its meter route whatever the size.
        self._places = build_places(place_rng)
        self._seen_ids: set[str] = set()
        self._per_office: dict[str, int] = {}

    def points(self, count: int) -> Iterator[SupplyPoint]:
        for _ in range(count):
            yield self._point(self._retailers.pick(self._rng))

    def _point(self, retailer: RetailerProfile) -> SupplyPoint:
        rng = self._rng
        place = rng.choice(self._places)
        kind = SupplyPointKind.GENERATION if rng.random() < GENERATION_SHARE else SupplyPointKind.DEMAND
        voltage = _voltage(rng.random(), kind)
        name = self._customer(kind, voltage)
        transformer, feeder = self._equipment(place.office)
        return SupplyPoint(
            supply_point_id=self._new_id(place.office),
            kind=kind,
            voltage=voltage,
            retailer_code=retailer.retailer.retailer_code,
            contract_no=retailer.contract_no(rng),
            name_kana=name.kana,
            name_kanji=name.kanji,
            address=self._address(place),
            building=self._building(place, voltage),
            phone=self._phone(place.municipality, personal=voltage is Voltage.LOW),
            status=_status(rng.random()),
            # Extra-high-voltage contracts are negotiated one by one, outside the switching system.
            switching_target=voltage is not Voltage.EXTRA_HIGH and rng.random() >= 0.002,
            reading_schedule=place.schedule if rng.random() < 0.9 else rng.choice(SCHEDULES),
            transformer_id=transformer,
            feeder_id=feeder,
        )

    def _new_id(self, office: str) -> str:
        # No check digit is documented, so none is invented: area, office, then 16 random digits.
        while True:
            candidate = f"{self._area.value}{office}{self._rng.randrange(10**16):016d}"
            if candidate not in self._seen_ids:
                self._seen_ids.add(candidate)
                return candidate

    def _customer(self, kind: SupplyPointKind, voltage: Voltage) -> Name:
        if voltage is Voltage.LOW:
            return self._names.person(self._rng)
        return corporation(self._rng, solar=kind is SupplyPointKind.GENERATION)

    def _address(self, place: Place) -> str:
        rng = self._rng
        head = f"{place.municipality.prefecture}{place.municipality.name}{place.town.name}"
        if place.town.chome:
            chome = kanji_number(rng.randint(1, place.town.chome))
            return f"{head}{chome}丁目{rng.randint(1, 30)}番{rng.randint(1, 25)}号"
        if rng.random() < 0.3:
            return f"{head}{rng.randint(1, 2500)}番地{rng.randint(1, 12)}"
        return f"{head}{rng.randint(1, 2500)}番地"

    def _building(self, place: Place, voltage: Voltage) -> str:
        rng = self._rng
        apartment_share = 0.35 if place.municipality.urban else 0.1
        if voltage is not Voltage.LOW or rng.random() >= apartment_share:
            return ""
        floor, room = rng.randint(1, 12), rng.randint(1, 9)
        return f"{rng.choice(BUILDING_NAMES)}{place.town.name[:2]} {floor}{room:02d}号室"

    def _phone(self, municipality: Municipality, personal: bool) -> str:
        rng = self._rng
        if personal and rng.random() < 0.55:
            return f"0{rng.choice('789')}0-{rng.randrange(1000, 10000)}-{rng.randrange(10000):04d}"
        prefix = municipality.phone_prefix
        tail = 9 - len(prefix)  # national numbers have 10 digits, the first local one 2–9
        local = f"{rng.randrange(2, 10)}{rng.randrange(10**tail):0{tail}d}"
        return f"{prefix}-{local[:-4]}-{local[-4:]}"

    def _equipment(self, office: str) -> tuple[str, str]:
        seen = self._per_office.get(office, 0)
        self._per_office[office] = seen + 1
        transformer = seen // POINTS_PER_TRANSFORMER
        feeder = transformer // TRANSFORMERS_PER_FEEDER
        return f"T{self._area.value}{office}-{transformer:05d}", f"F{self._area.value}{office}-{feeder:03d}"


def _voltage(draw: float, kind: SupplyPointKind) -> Voltage:
    low, high = (0.95, 0.995) if kind is SupplyPointKind.DEMAND else (0.90, 0.99)
    if draw < low:
        return Voltage.LOW
    return Voltage.HIGH if draw < high else Voltage.EXTRA_HIGH


def _status(draw: float) -> SupplyPointStatus:
    if draw < 0.010:
        return SupplyPointStatus.PENDING_CANCELLATION
    if draw < 0.013:
        return SupplyPointStatus.LOCKED
    return SupplyPointStatus.ACTIVE
