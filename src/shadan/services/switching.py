"""The checks over a file of applications (DESIGN §5.2–5.3), and `shadan switching validate`, the dry run.

`run_checks` is the one path of every file: validate (廃止取次, nothing changes), and submit and start
(services/switching_cases.py), which store what it returns. A `FileForm` says what differs between a
cancellation file and a start file. The file is streamed in chunks: each chunk's rows are parsed, its
supply points fetched in one bulk read (only the actor's area), and each application assessed in both
comparison modes. Only a small record per application is kept, because the in-run part of check 03
needs the whole run in `received_at` order before any result is final. Results come back in file order,
so result line n answers application line n.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar

from shadan.domain.batches import chunks
from shadan.domain.events import AccessEvent
from shadan.domain.registry import SupplyPoint
from shadan.domain.switching import (
    Application,
    ErrorCode,
    Finding,
    ResultKind,
    SwitchingAuditTag,
    codes_of,
)
from shadan.domain.switching_case import CaseState, Half, StartApplication
from shadan.domain.vocabulary import Action, InfoCategory
from shadan.services.audit_log import Progress, no_progress
from shadan.services.clock import Clock, utc_now
from shadan.services.ports import RegistryRepository, SwitchingRepository, UnitOfWork, UnitOfWorkFactory
from shadan.services.switching_checks import (
    Assessment,
    ReadingCalendar,
    add_in_run_pending,
    assess,
    assess_start,
    instant,
)
from shadan.services.switching_events import SwitchingActor, SwitchingEvents
from shadan.services.switching_files import ApplicationResult, read_applications
from shadan.services.switching_messages import result_message, start_message
from shadan.services.switching_rows import (
    APPLICATION_COLUMNS,
    START_COLUMNS,
    invalid_message,
    parse_application,
    parse_start,
)
from shadan.services.tabular import CsvRow, RowError, arity_error

# The categories a check reads besides the contract's own (new_power_customer / new_power_purchase).
_READ_CATEGORIES = frozenset({InfoCategory.SUPPLY_POINT, InfoCategory.LOCATION})


class Parsed(Protocol):
    """A well-formed row of either file, as the run reads it."""

    @property
    def line(self) -> int: ...

    @property
    def application_id(self) -> str: ...

    @property
    def supply_point_id(self) -> str: ...

    @property
    def new_retailer_code(self) -> str: ...

    @property
    def received_at(self) -> dt.datetime: ...


A = TypeVar("A", bound=Parsed)


@dataclass(frozen=True, slots=True)
class FileForm(Generic[A]):
    """What differs between the two files of a switch: columns, row parser, checks and messages."""

    half: Half
    columns: tuple[str, ...]
    parse: Callable[[int, Mapping[str, str]], A | tuple[RowError, ...]]
    assess: Callable[[A, SupplyPoint | None, ReadingCalendar], Assessment]
    message: Callable[[tuple[Finding, ...], bool], str]
    in_run_pending: bool  # 03 for a later application to the same point in one run (cancellations)
    compares_names: bool  # names and addresses are compared, so --strict can differ


def _cancel_message(findings: tuple[Finding, ...], strict: bool) -> str:
    return result_message(findings, strict=strict)


def _assess_start(app: StartApplication, point: SupplyPoint | None, _calendar: ReadingCalendar) -> Assessment:
    return assess_start(app, point)


def _start_message(findings: tuple[Finding, ...], _strict: bool) -> str:
    return start_message(findings)


CANCELLATIONS: FileForm[Application] = FileForm(
    Half.CANCEL,
    APPLICATION_COLUMNS,
    parse_application,
    assess,
    _cancel_message,
    in_run_pending=True,
    compares_names=True,
)
STARTS: FileForm[StartApplication] = FileForm(
    Half.START,
    START_COLUMNS,
    parse_start,
    _assess_start,
    _start_message,
    in_run_pending=False,
    compares_names=False,
)


@dataclass(frozen=True, slots=True)
class StrictComparison:
    """The same run judged with `--strict`, and what normalisation changed (DESIGN §5.3)."""

    rejected: int
    name_rejections: int  # applications whose error_codes would contain 04
    address_rejections: int  # … 05
    avoided_name: int  # 04 under --strict, not with normalisation
    avoided_address: int
    avoided_rejections: int  # rejected under --strict, accepted with normalisation


class StrictCounter:
    """A StrictComparison counted one application at a time (a checked run, a period of the statistics)."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def add(self, codes: tuple[ErrorCode, ...], strict_codes: tuple[ErrorCode, ...]) -> None:
        """One application's codes with normalisation and under --strict."""
        if not strict_codes:  # invalid, or accepted even under --strict
            return
        counts = self._counts
        counts["rejected"] += 1
        counts["avoided_rejections"] += not codes
        for code, rejections, avoided in _NORMALISED:
            if code in strict_codes:
                counts[rejections] += 1
                counts[avoided] += code not in codes

    def freeze(self) -> StrictComparison:
        counts = self._counts
        return StrictComparison(
            rejected=counts["rejected"],
            name_rejections=counts["name_rejections"],
            address_rejections=counts["address_rejections"],
            avoided_name=counts["avoided_name"],
            avoided_address=counts["avoided_address"],
            avoided_rejections=counts["avoided_rejections"],
        )


# The codes normalisation can avoid (04, 05), with their counts' names.
_NORMALISED = (
    (ErrorCode.NAME, "name_rejections", "avoided_name"),
    (ErrorCode.ADDRESS, "address_rejections", "avoided_address"),
)


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    source_name: str
    sha256: str
    encoding: str
    strict: bool
    total: int
    by_result: dict[ResultKind, int]
    primary: dict[ErrorCode, int]  # applications by primary code (error_code)
    listed: dict[ErrorCode, int]  # applications whose error_codes list the code
    supply_points_read: int
    unbounded_windows: int  # 06 upper bound unchecked: no 次々回検針日 in the reading calendar
    comparison: StrictComparison | None  # None when the run itself was strict


@dataclass(frozen=True, slots=True)
class ValidationReport:
    results: tuple[ApplicationResult, ...]
    summary: ValidationSummary


@dataclass(frozen=True, slots=True)
class CheckedRow(Generic[A]):
    """One row of a checked file with what storing it needs."""

    result: ApplicationResult
    strict_codes: tuple[ErrorCode, ...]  # what `--strict` lists for the row (the same when strict)
    application: A | None  # None for an invalid row
    cells: Mapping[str, str]  # the row as written: all that is known of an invalid row


@dataclass(frozen=True, slots=True)
class CheckedFile(Generic[A]):
    results: tuple[ApplicationResult, ...]
    summary: ValidationSummary
    categories: frozenset[InfoCategory]  # what the checks read
    rows: tuple[CheckedRow[A], ...]  # only when asked to keep them (submit)
    locked_claims: tuple[str, ...]  # application ids of matched applications the file tries to change


@dataclass(frozen=True, slots=True)
class _Entry(Generic[A]):
    """What is kept of one application until the run is complete (a million of them: kept small)."""

    index: int  # position in the file
    line: int
    application_id: str
    supply_point_id: str
    received: int  # µs since the epoch; 0 for an invalid row
    assessment: Assessment | None  # None for an invalid row
    invalid: tuple[RowError, ...] = ()
    application: A | None = None  # kept only for submit
    cells: Mapping[str, str] | None = None  # an invalid row's cells, kept only for submit


def run_checks(
    uow: UnitOfWork,
    form: FileForm[A],
    data: bytes,
    actor: SwitchingActor,
    *,
    strict: bool = False,
    source_name: str,
    sha256: str,
    chunk_rows: int,
    keep: bool = False,
    accepted_message: str | None = None,
    progress: Progress | None = None,
) -> CheckedFile[A]:
    """The checks of one file in `uow` (validate and submit share them). A file-level problem (encoding,
    header) raises CsvFormatError; `keep` keeps each row's values for storing. `sha256` is the file's hash,
    which submit has already taken to refuse a replay."""
    encoding, rows = read_applications(data, form.columns)
    estimate = max(data.count(b"\n"), 1)
    report_progress = progress or no_progress
    with _cyclic_gc_paused():
        run = _Run(form, uow.registry, uow.switching, actor, keep=keep, accepted_message=accepted_message)
        for chunk in chunks(rows, chunk_rows):
            run.add(chunk)
            report_progress(estimate, min(run.size, estimate))
        report_progress(run.size, run.size)
        return run.finish(strict=strict, source_name=source_name, sha256=sha256, encoding=encoding)


def summary_detail(summary: ValidationSummary) -> dict[str, Any]:
    """What an access event records of a checked file (never its rows)."""
    return {
        "file": summary.source_name,
        "sha256": summary.sha256,
        "encoding": summary.encoding,
        "strict": summary.strict,
        "applications": summary.total,
        "supply_points_read": summary.supply_points_read,
        **{kind.value: summary.by_result.get(kind, 0) for kind in ResultKind},
    }


class SwitchingService:
    """`shadan switching validate`: the checks as a dry run, by the operator."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        system_name: str,
        *,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        chunk_rows: int = 10_000,
    ) -> None:
        self._uow = uow
        self._events = SwitchingEvents(system_name, clock, new_id)
        self._chunk_rows = chunk_rows

    def validate(
        self,
        data: bytes,
        actor: str,
        *,
        strict: bool = False,
        source_name: str = "applications.csv",
        progress: Progress | None = None,
    ) -> ValidationReport:
        """Check every application; a file-level problem (encoding, header) raises CsvFormatError."""
        operator = SwitchingActor(actor)
        with self._uow() as uow:
            checked = run_checks(
                uow,
                CANCELLATIONS,
                data,
                operator,
                strict=strict,
                source_name=source_name,
                sha256=hashlib.sha256(data).hexdigest(),
                chunk_rows=self._chunk_rows,
                progress=progress,
            )
            # Fail closed: the results leave only once the access event for the reads is durable.
            uow.log.append([self._event(operator, checked)])
            uow.commit()
        return ValidationReport(checked.results, checked.summary)

    def _event(self, actor: SwitchingActor, checked: CheckedFile[Application]) -> AccessEvent:
        # The ids read are those of the file, identified by its hash; a million ids in one event would
        # make the log's largest leaf out of one dry run.
        return self._events.event(
            actor,
            Action.SEARCH,
            SwitchingAuditTag.VALIDATED,
            categories=checked.categories,
            **summary_detail(checked.summary),
        )


class _Run(Generic[A]):
    """One run over a file: assessments collected chunk by chunk, then the in-run pass and the results."""

    def __init__(
        self,
        form: FileForm[A],
        registry: RegistryRepository,
        records: SwitchingRepository,
        actor: SwitchingActor,
        *,
        keep: bool,
        accepted_message: str | None,
    ) -> None:
        self._form = form
        self._registry = registry
        self._records = records
        self._actor = actor
        self._keep = keep
        self._accepted_message = accepted_message
        self._calendar = ReadingCalendar()
        self._entries: list[_Entry[A]] = []
        self._first_line: dict[str, int] = {}
        self._locked_claims: list[str] = []
        self.points_read = 0
        self.categories: frozenset[InfoCategory] = frozenset()

    @property
    def size(self) -> int:
        return len(self._entries)

    def add(self, rows: Sequence[CsvRow]) -> None:
        parsed = self._unclaimed([self._parse(row) for row in rows])
        apps = [p for p in parsed if not isinstance(p, tuple)]
        points = self._covered(self._registry.supply_points_by_ids({a.supply_point_id for a in apps}))
        self._learn(points.values())
        for item, row in zip(parsed, rows, strict=True):
            self._entries.append(self._entry(item, row, points))

    def _parse(self, row: CsvRow) -> A | tuple[RowError, ...]:
        wrong_arity = arity_error(row, len(self._form.columns))
        if wrong_arity is not None:
            return (wrong_arity,)
        parsed = self._form.parse(row.line, row.values)
        application_id = row.values.get("application_id", "")
        if not application_id:
            return parsed
        first = self._first_line.setdefault(application_id, row.line)
        if first == row.line:
            return parsed
        duplicate = RowError(
            row.line,
            "application_id",
            f"{first}行目と同じ申込番号です。申込ごとに別の申込番号を付けてください。",
        )
        return (*parsed, duplicate) if isinstance(parsed, tuple) else (duplicate,)

    def _unclaimed(self, parsed: list[A | tuple[RowError, ...]]) -> list[A | tuple[RowError, ...]]:
        """An application id already stored for the same new retailer makes the row invalid; a matched
        application cannot be changed by sending it again."""
        ids = {p.application_id for p in parsed if not isinstance(p, tuple)}
        claimed = self._records.claimed_ids(ids) if ids else {}
        if not claimed:
            return parsed
        return [item if isinstance(item, tuple) else self._claim_checked(item, claimed) for item in parsed]

    def _claim_checked(self, item: A, claimed: dict[tuple[str, str], CaseState]) -> A | tuple[RowError, ...]:
        state = claimed.get((item.application_id, item.new_retailer_code))
        if state is None:
            return item
        if state is CaseState.MATCHED:
            self._locked_claims.append(item.application_id)
        return (RowError(item.line, "application_id", _claimed_reason(item, state)),)

    def _covered(self, points: dict[str, SupplyPoint]) -> dict[str, SupplyPoint]:
        """Only the actor's area: a point of another area is answered as one that does not exist (01)."""
        if self._actor.area is None:
            return points
        return {key: point for key, point in points.items() if self._actor.covers(point.area)}

    def _learn(self, points: Iterable[SupplyPoint]) -> None:
        points = list(points)
        self.points_read += len(points)
        new = {p.reading_schedule for p in points if not self._calendar.knows(p.reading_schedule)}
        if new:
            days = self._registry.reading_days(new)
            # A schedule without days is remembered too, so it is not asked for again with every chunk.
            self._calendar.add({schedule: days.get(schedule, []) for schedule in new})
        contract = {p.contract_category for p in points}
        if contract:
            self.categories |= _READ_CATEGORIES | contract

    def _entry(
        self, item: A | tuple[RowError, ...], row: CsvRow, points: dict[str, SupplyPoint]
    ) -> _Entry[A]:
        if isinstance(item, tuple):
            application_id = row.values.get("application_id", "")
            cells = row.values if self._keep else None
            return _Entry(len(self._entries), row.line, application_id, "", 0, None, item, cells=cells)
        assessment = self._form.assess(item, points.get(item.supply_point_id), self._calendar)
        return _Entry(
            len(self._entries),
            item.line,
            item.application_id,
            item.supply_point_id,
            instant(item.received_at),
            assessment,
            application=item if self._keep else None,
        )

    def finish(self, *, strict: bool, source_name: str, sha256: str, encoding: str) -> CheckedFile[A]:
        queue = self._processing_queue()
        final = self._final_findings(queue, strict=strict)
        compared = self._form.compares_names and not strict
        strict_final = self._final_findings(queue, strict=True) if compared else final
        results = tuple(self._result(e, f, strict) for e, f in zip(self._entries, final, strict=True))
        rejected = [r for r in results if r.codes]
        summary = ValidationSummary(
            source_name=source_name,
            sha256=sha256,
            encoding=encoding,
            strict=strict,
            total=len(results),
            by_result=dict(Counter(r.result for r in results)),
            primary=dict(Counter(r.codes[0] for r in rejected)),
            listed=dict(Counter(c for r in rejected for c in r.codes)),
            supply_points_read=self.points_read,
            unbounded_windows=sum(1 for e in self._entries if e.assessment and e.assessment.unbounded),
            comparison=_comparison(final, strict_final) if compared else None,
        )
        kept: tuple[CheckedRow[A], ...] = ()
        if self._keep:
            kept = tuple(
                self._kept(e, r, f) for e, r, f in zip(self._entries, results, strict_final, strict=True)
            )
        return CheckedFile(results, summary, self.categories, kept, tuple(self._locked_claims))

    @staticmethod
    def _kept(entry: _Entry[A], result: ApplicationResult, strict_final: _Final) -> CheckedRow[A]:
        return CheckedRow(result, codes_of(strict_final or ()), entry.application, entry.cells or {})

    def _processing_queue(self) -> list[_Entry[A]]:
        """The assessed applications in processing order: `received_at`, ties by `application_id`."""
        return sorted((e for e in self._entries if e.assessment is not None), key=_PROCESSING_ORDER)

    def _final_findings(self, queue: list[_Entry[A]], *, strict: bool) -> list[_Final]:
        """Findings per entry (file order) after the in-run pass; None for an invalid row."""
        final: list[_Final] = [None] * len(self._entries)
        if self._form.in_run_pending:
            findings = add_in_run_pending(queue, strict=strict)
        else:
            findings = [e.assessment.for_mode(strict=strict) for e in queue if e.assessment is not None]
        for entry, found in zip(queue, findings, strict=True):
            final[entry.index] = found
        return final

    def _result(self, entry: _Entry[A], findings: _Final, strict: bool) -> ApplicationResult:
        if findings is None:
            message = invalid_message(entry.invalid)
            return ApplicationResult(entry.line, entry.application_id, ResultKind.INVALID, (), message)
        if not findings and self._accepted_message is not None:
            return ApplicationResult(
                entry.line, entry.application_id, ResultKind.ACCEPTED, (), self._accepted_message
            )
        kind = ResultKind.REJECTED if findings else ResultKind.ACCEPTED
        message = self._form.message(findings, strict)
        return ApplicationResult(entry.line, entry.application_id, kind, codes_of(findings), message)


_Final = tuple[Finding, ...] | None


def _claimed_reason(item: Parsed, state: CaseState) -> str:
    if state is CaseState.MATCHED:
        return (
            f"申込番号「{item.application_id}」の申込は既にマッチング済み（スイッチング成立）のため、"
            "変更・再申込はできません。"
        )
    return (
        f"申込番号「{item.application_id}」は新小売事業者「{item.new_retailer_code}」の申込として既に登録されています"
        f"（状態: {state.label}）。申込ごとに別の申込番号を付けてください。"
    )


def _comparison(normal: list[_Final], strict: list[_Final]) -> StrictComparison:
    """What --strict would have rejected, from the two final findings of every application."""
    counter = StrictCounter()
    for now, before in zip(normal, strict, strict=True):
        if before:
            counter.add(codes_of(now or ()), codes_of(before))
    return counter.freeze()


# (received instant, application_id): attrgetter builds the sort key in C, a million times per run.
_PROCESSING_ORDER = attrgetter("received", "application_id")


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A run builds millions of small objects and none of them in reference cycles, so reference counting
    frees everything; the cyclic collector's repeated passes over the growing heap cost about 40% of the
    run time (measured at 100,000 applications). It is paused for the run and restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
