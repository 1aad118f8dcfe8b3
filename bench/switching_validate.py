"""廃止取次 validation: 1M applications against a 10M-supply-point registry (DESIGN §6: ≤ 60 s).

1. Builds a SQLite registry of `--points` supply points. The schema comes from the real migrations; rows
   are written with sqlite3's executemany straight into the tables (journal and sync off while building),
   because the CSV import (about 40,000 rows/s, whole file in memory) would take minutes and tens of GB
   for 10M rows. The data is synthetic but shaped like area 06: real 関西 places and name pools (with
   髙田, 山﨑, 濵田), 20 reading schedules, 0.1% each pending, locked and not a switching target.
2. Writes `--applications` applications (UTF-8 CSV). `--error-rate` of them carry exactly one real error,
   split by the seed's shares (01 15.1%, 02 35.1%, 03 2.5%, 04 35.3%, 05 2.9%, 06 3.2%, 07 0.2%,
   99 5.5%); `--format-rate` of the others differ only in formatting (hiragana kana, 高 for 髙, hyphenated
   address without prefecture, kanji numerals), which `--strict` rejects and normalisation forgives.
3. Times `SwitchingService.validate` and the writing of the results in a fresh process, so the peak
   memory (ru_maxrss) is the validation's alone, and checks the codes against what was planted.

Results go to bench/results/switching_validate.json. The work directory (≈ 3 GB at 10M points) is
deleted afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kanjize import number2kanji

from common import console, verdict, write_result
from shadan.domain.business_days import cancel_window
from shadan.domain.japan_time import JST
from shadan.services.synthetic.names import name_pools
from shadan.services.synthetic.places import MUNICIPALITIES
from shadan.store.database import migrate

TARGET_SECONDS = 60.0
_PLANTED_LABELS = {"": "clean", "fmt": "formatting_only"}
SHARES = {"01": 15.1, "02": 35.1, "03": 2.5, "04": 35.3, "05": 2.9, "06": 3.2, "07": 0.2, "99": 5.5}
RETAILERS = [("R06A", "関西でんき販売株式会社", "06")] + [
    (f"N{i:03d}", f"新電力{i}株式会社", "") for i in range(1, 12)
]
SCHEDULES = 20
BLOCK = 1000  # within each block of 1000 points: 1 pending, 2 locked, 3 not a switching target
KANJI_DIGITS = "〇一二三四五六七八九"
FIRST_DAY = dt.date(2025, 4, 1)
INSERT_BATCH = 50_000


# ---------------------------------------------------------------- registry


@dataclass(frozen=True, slots=True)
class Point:
    n: int
    retailer: str
    contract_no: str
    kana: str
    kanji: str
    address: str
    schedule: str
    family: tuple[str, str]
    given: tuple[str, str]
    place: tuple[str, str, str, int, int, int]  # prefecture, city, town, chome (0: 番地), ban, go


def point(n: int) -> Point:
    pools = name_pools()
    family = pools.surnames[n % len(pools.surnames)]
    given = pools.given_names[(n // len(pools.surnames)) % len(pools.given_names)]
    city = MUNICIPALITIES[(n // 3_825) % len(MUNICIPALITIES)]
    town = city.towns[(n // 7) % len(city.towns)]
    chome = (n // 11) % town.chome + 1 if town.chome else 0
    place = (city.prefecture, city.name, town.name, chome, n % 30 + 1, (n // 30) % 20 + 1)
    return Point(
        n=n,
        retailer=RETAILERS[n % len(RETAILERS)][0],
        contract_no=f"K{n:010d}",
        kana=f"{family[1]}\u3000{given[1]}",
        kanji=f"{family[0]}\u3000{given[0]}",
        address=registry_address(place),
        schedule=f"S{n % SCHEDULES + 1:02d}",
        family=family,
        given=given,
        place=place,
    )


def registry_address(place: tuple[str, str, str, int, int, int]) -> str:
    prefecture, city, town, chome, ban, go = place
    if not chome:
        return f"{prefecture}{city}{town}{ban * 20 + go}番地"
    return f"{prefecture}{city}{town}{number2kanji(chome)}丁目{ban}番{go}号"


def status_of(n: int) -> tuple[str, int]:
    kind = n % BLOCK
    if kind == 1:
        return "pending_cancellation", 1
    if kind == 2:
        return "locked", 1
    return "active", 0 if kind == 3 else 1


def reading_days() -> dict[str, list[dt.date]]:
    days: dict[str, list[dt.date]] = {}
    for s in range(1, SCHEDULES + 1):
        days[f"S{s:02d}"] = [dt.date(y, m, s + 3) for y in (2024, 2025, 2026) for m in range(1, 13)]
    return days


def build_registry(path: Path, points: int) -> float:
    started = time.perf_counter()
    migrate(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;")
    db.executemany("INSERT INTO retailers VALUES (?, ?, ?)", [(c, n, a or None) for c, n, a in RETAILERS])
    days = [(s, d.isoformat()) for s, dates in reading_days().items() for d in dates]
    db.executemany("INSERT INTO reading_calendar (reading_schedule, date) VALUES (?, ?)", days)
    sql = (
        "INSERT INTO supply_points (supply_point_id, area, kind, voltage, retailer_code, contract_no, "
        "name_kana, name_kanji, address, building, phone, status, switching_target, reading_schedule, "
        "transformer_id, feeder_id) VALUES (?, '06', 'demand', 'low', ?, ?, ?, ?, ?, '', '', ?, ?, ?, '', '')"
    )
    for start in range(0, points, INSERT_BATCH):
        db.executemany(sql, (_row(n) for n in range(start, min(start + INSERT_BATCH, points))))
    db.commit()
    db.close()
    return time.perf_counter() - started


def _row(n: int) -> tuple[Any, ...]:
    p = point(n)
    status, target = status_of(n)
    return (f"06{n:020d}", p.retailer, p.contract_no, p.kana, p.kanji, p.address, status, target, p.schedule)


# ---------------------------------------------------------------- applications


@dataclass
class App:
    application_id: str
    received_at: dt.datetime
    point: Point
    supply_point_id: str
    current: str
    contract_no: str
    address: str
    kana: str
    kanji: str
    cancel: dt.date
    new_retailer: str
    planted: str  # the code planted, "" for a clean application, "fmt" for formatting only


class Planter:
    def __init__(self, points: int, seed: int, need: int) -> None:
        self.rng = random.Random(seed)
        self.points = points
        self.days = reading_days()
        self._normal = self._sampler(need, BLOCK - 4, 4)
        self._special = {kind: self._sampler(need, 1, kind) for kind in (1, 2, 3)}

    def _sampler(self, need: int, per_block: int, first: int) -> Iterator[int]:
        """Distinct points of one class (offsets first … first + per_block - 1 of each block), at random."""
        population = (self.points // BLOCK) * per_block
        for k in self.rng.sample(range(population), min(population, need)):
            yield (k // per_block) * BLOCK + first + k % per_block

    def normal(self) -> Point:
        return point(next(self._normal))

    def special(self, kind: int) -> Point:
        return point(next(self._special[kind]))

    def clean(self, index: int, p: Point | None = None) -> App:
        p = p or self.normal()
        received = dt.datetime.combine(FIRST_DAY, dt.time(9), JST) + dt.timedelta(
            seconds=self.rng.randrange(29 * 86_400)
        )
        window = cancel_window(received.date(), self.days[p.schedule])
        latest = window.latest or window.earliest + dt.timedelta(days=30)
        span = max((latest - window.earliest).days - 1, 0)
        cancel = window.earliest + dt.timedelta(days=self.rng.randint(0, min(span, 10)))
        new = RETAILERS[
            (RETAILERS.index(next(r for r in RETAILERS if r[0] == p.retailer)) + 1) % len(RETAILERS)
        ]
        return App(
            application_id=f"AP{index:08d}",
            received_at=received,
            point=p,
            supply_point_id=f"06{p.n:020d}",
            current=p.retailer,
            contract_no=p.contract_no,
            address=p.address,
            kana=p.kana,
            kanji=p.kanji,
            cancel=cancel,
            new_retailer=new[0],
            planted="",
        )

    def formatted(self, app: App) -> None:
        """A difference of form only: --strict rejects it (04 or 05), normalisation does not."""
        p = app.point
        prefecture, city, town, chome, ban, go = p.place
        styles = ["hiragana", "numerals"]
        if any(c in p.kanji for c in "髙﨑濵"):
            styles.append("variant")
        if chome:
            styles.append("hyphens")
        style = self.rng.choice(styles)
        if style == "hiragana":
            app.kana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in p.kana)
        elif style == "variant":
            app.kanji = p.kanji.translate(str.maketrans("髙﨑濵", "高崎浜"))
        elif style == "hyphens":
            app.address = f"{city}{town}{chome}-{ban}-{go}"
        elif chome:
            app.address = f"{prefecture} {city}{town}{chome}丁目{number2kanji(ban)}番{number2kanji(go)}号"
        else:
            app.address = f"{prefecture} {city}{town}{number2kanji(ban * 20 + go)}番地"
        app.planted = "fmt"

    def error(self, app: App, code: str, index: int) -> App:
        half = self.rng.random() < 0.5
        if code == "01":
            if half:
                app.supply_point_id = f"06{self.points + index:020d}"
            else:
                app.current = next(r[0] for r in RETAILERS if r[0] != app.current)
        elif code == "02":
            app.contract_no = f"K{(app.point.n + 7) % 10**10:010d}"
        elif code == "03":
            app = self.clean(index, self.special(1))  # in-run duplicates are planted separately
        elif code == "04":
            other = name_pools().given_names[(name_pools().given_names.index(app.point.given) + 1) % 51]
            app.kanji = f"{app.point.family[0]}\u3000{other[0]}"
            app.kana = f"{app.point.family[1]}\u3000{other[1]}"
        elif code == "05":
            pref, city, town, chome, ban, go = app.point.place
            app.address = registry_address((pref, city, town, chome, ban, go % 20 + 1))
        elif code == "06":
            received = app.received_at.date()
            app.cancel = received if half else app.cancel + dt.timedelta(days=70)
        elif code == "07":
            app = self.clean(index, self.special(3))
        elif code == "99":
            if half:
                app = self.clean(index, self.special(2))
            else:
                app.new_retailer = app.current
        app.planted = code
        return app


def build_applications(
    path: Path, points: int, count: int, seed: int, error_rate: float, fmt_rate: float
) -> Counter[str]:
    planter = Planter(points, seed, count + 10)
    errors = round(count * error_rate)
    total_share = sum(SHARES.values())
    per_code = {code: round(errors * share / total_share) for code, share in SHARES.items()}
    in_run = per_code["03"] // 2
    per_code["03"] -= in_run
    plan = [code for code, n in per_code.items() for _ in range(n)]
    plan += [""] * (count - len(plan) - in_run)
    planter.rng.shuffle(plan)
    apps: list[App] = []
    for index, code in enumerate(plan):
        app = planter.clean(index)
        if code:
            app = planter.error(app, code, index)
        elif planter.rng.random() < fmt_rate:
            planter.formatted(app)
        apps.append(app)
    clean = [a for a in apps if a.planted == ""]
    for offset, original in enumerate(planter.rng.sample(clean, in_run)):
        duplicate = planter.clean(len(apps) + offset, original.point)
        duplicate.received_at = original.received_at + dt.timedelta(hours=1)
        duplicate.cancel = original.cancel
        duplicate.planted = "03"
        apps.append(duplicate)
    _write_apps(path, apps)
    # What each application should get as its primary code, for the measuring process to compare.
    expected = {a.application_id: a.planted for a in apps if a.planted not in ("", "fmt")}
    path.with_suffix(".planted.json").write_text(json.dumps(expected), encoding="utf-8")
    return Counter(a.planted for a in apps)


def _write_apps(path: Path, apps: list[App]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(
            [
                "application_id", "received_at", "supply_point_id", "current_retailer_code", "contract_no",
                "address", "building", "name_kana", "name_kanji", "cancel_date", "new_retailer_code",
                "new_retailer_staff", "new_retailer_phone",
            ]
        )  # fmt: skip
        for a in apps:
            writer.writerow(
                [
                    a.application_id, a.received_at.isoformat(timespec="seconds"), a.supply_point_id,
                    a.current, a.contract_no, a.address, "", a.kana, a.kanji, a.cancel.isoformat(),
                    a.new_retailer, f"営業{a.point.n % 97:02d}", "06-6000-0000",
                ]
            )  # fmt: skip


# ---------------------------------------------------------------- measurement (child process)


def measure(db: Path, apps: Path, results: Path) -> dict[str, Any]:
    """Runs in a fresh process: the figures of one validation run, peak memory included."""
    from shadan.services.switching import SwitchingService
    from shadan.services.switching_files import ResultEncoding, write_results
    from shadan.store.database import make_engine
    from shadan.store.unit_of_work import SqlUnitOfWorkFactory

    engine = make_engine(f"sqlite:///{db}")
    service = SwitchingService(SqlUnitOfWorkFactory(engine), "bench")
    started = time.perf_counter()
    data = apps.read_bytes()
    read = time.perf_counter()
    report = service.validate(data, "system:bench", source_name=apps.name)
    validated = time.perf_counter()
    with results.open("wb") as out:
        write_results(report.results, out, ResultEncoding.UTF8_BOM)
    written = time.perf_counter()
    expected = _planted_codes(apps)
    agreement = sum(1 for r in report.results if r.error_code == expected.get(r.application_id, ""))
    summary = report.summary
    engine.dispose()
    return {
        "read_seconds": round(read - started, 3),
        "validate_seconds": round(validated - read, 3),
        "write_seconds": round(written - validated, 3),
        "total_seconds": round(written - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_mb_vmhwm": _vm_hwm_mb(),
        "applications": summary.total,
        "by_result": {k.value: v for k, v in summary.by_result.items()},
        "primary_codes": {k.value: v for k, v in sorted(summary.primary.items())},
        "strict_comparison": summary.comparison,
        "planted_primary_agreement": round(agreement / summary.total, 4),
    }


def _vm_hwm_mb() -> float | None:
    """The peak resident set of this process image (Linux), a cross-check of ru_maxrss."""
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
    except OSError:
        return None
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
    return round(int(line.split()[1]) / 1024, 1) if line else None


def _planted_codes(apps: Path) -> dict[str, str]:
    """application_id → the code planted in it (clean and formatting-only applications are absent)."""
    sidecar = apps.with_suffix(".planted.json")
    planted: dict[str, str] = json.loads(sidecar.read_text(encoding="utf-8"))
    return planted


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _arguments(argv)
    if args.measure:
        db, apps, results = (Path(p) for p in args.measure)
        print(json.dumps(measure(db, apps, results), default=_plain))
        return {}
    if args.build_registry:
        print(json.dumps(build_registry(Path(args.build_registry), args.points)))
        return {}
    if args.make_applications:
        planted = build_applications(
            Path(args.make_applications),
            args.points,
            args.applications,
            args.seed,
            args.error_rate,
            args.format_rate,
        )
        print(json.dumps(dict(planted)))
        return {}
    work = Path(tempfile.mkdtemp(prefix="shadan-switching-", dir=args.workdir))
    try:
        return _run(args, work)
    finally:
        if args.keep:
            console.print(f"[dim]kept {work}[/dim]")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    db, apps, results = work / "registry.db", work / "applications.csv", work / "results.csv"
    console.print(f"building a registry of {args.points:,} supply points in {work} (about 7 s per million) …")
    # Each step runs in its own process: ru_maxrss of a process counts the pages it had at fork time, so
    # a big parent (the build's 1 GB page cache, a million generated applications) would inflate the
    # measuring child's peak.
    build_seconds = float(_child("--build-registry", str(db), f"--points={args.points}"))
    started = time.perf_counter()
    options = [f"--{k.replace('_', '-')}={getattr(args, k)}" for k in _GENERATION_OPTIONS]
    planted = Counter(json.loads(_child("--make-applications", str(apps), *options)))
    apps_seconds = time.perf_counter() - started
    figures = json.loads(_child("--measure", str(db), str(apps), str(results)))
    ok = figures["total_seconds"] <= TARGET_SECONDS
    payload = {
        "points": args.points,
        "applications": args.applications,
        "error_rate": args.error_rate,
        "format_rate": args.format_rate,
        "planted": {_PLANTED_LABELS.get(k, k): v for k, v in sorted(planted.items())},
        "registry_build_seconds": round(build_seconds, 1),
        "registry_db_mb": round(db.stat().st_size / 2**20),
        "applications_mb": round(apps.stat().st_size / 2**20, 1),
        "applications_build_seconds": round(apps_seconds, 1),
        **figures,
        "target_seconds": TARGET_SECONDS,
        "met": ok,
    }
    path = write_result("switching_validate", payload)
    console.print_json(json.dumps(payload, ensure_ascii=False, default=_plain))
    console.print(
        verdict(
            "廃止取次 validation ≤ 60 s",
            ok,
            f"{figures['total_seconds']} s, {figures['peak_rss_mb']} MB peak",
        )
    )
    console.print(f"[dim]{path}[/dim]")
    return payload


_GENERATION_OPTIONS = ("points", "applications", "seed", "error_rate", "format_rate")


def _child(*args: str) -> str:
    """Run this script in a fresh process; its last output line is its JSON answer."""
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def _plain(value: object) -> object:
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)  # type: ignore[arg-type]
    return str(value)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--error-rate", type=float, default=0.10)
    parser.add_argument("--format-rate", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=20250401)
    parser.add_argument("--workdir", default=None, help="where the temporary registry goes")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--measure", nargs=3, metavar=("DB", "APPS", "RESULTS"), help=argparse.SUPPRESS)
    parser.add_argument("--make-applications", metavar="APPS", help=argparse.SUPPRESS)
    parser.add_argument("--build-registry", metavar="DB", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
