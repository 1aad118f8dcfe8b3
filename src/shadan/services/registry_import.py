"""`shadan registry import`: load supply points, retailers and the reading calendar (DESIGN §5.1).

Each file is one transaction: it is checked and written chunk by chunk, and kept only if every row is
good, or with `skip_invalid` the good rows are kept and the others reported. Files are taken in the order
retailers → calendar → supply points, because a supply point must name a retailer and a reading schedule
that the database already holds. Every import, kept or refused, is recorded as an administrative access
event with its counts and the file's SHA-256, so an auditor can tie the data to the file it came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from shadan.domain.batches import chunks
from shadan.domain.errors import InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.registry import CONTRACT_FIELDS, FIXED_FIELD_CATEGORIES, SupplyPoint
from shadan.domain.vocabulary import Action, AuditTag, InfoCategory, Outcome, ResourceType
from shadan.services.clock import Clock, utc_now
from shadan.services.ports import RegistryRepository, UnitOfWorkFactory
from shadan.services.registry_rows import (
    COLUMNS,
    IMPORT_ORDER,
    SUPPLY_POINT_COLUMNS,
    RegistryFile,
    RowChecker,
    SupplyPointRules,
    check_reading_day,
    check_retailer,
    reading_day_key,
    retailer_key,
    supply_point_key,
)
from shadan.services.tabular import CsvFile, CsvFormatError, RowError, decode, read_csv

Progress = Callable[[int, int], None]
"""Called with (total rows, rows done) as a file is processed; the CLI draws it as a progress bar."""


class ImportOutcome(StrEnum):
    IMPORTED = "imported"  # every row written
    PARTIAL = "partial"  # skip_invalid: the good rows written, the others reported
    REJECTED = "rejected"  # nothing written


@dataclass(frozen=True, slots=True)
class ImportSource:
    kind: RegistryFile
    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class FileImportResult:
    kind: RegistryFile
    source_name: str
    sha256: str
    encoding: str  # "" when the file could not be decoded
    rows_read: int
    rows_written: int
    rows_rejected: int
    rejected: tuple[RowError, ...]  # one entry per problem: a row may have several, a bad header too
    outcome: ImportOutcome
    categories: frozenset[InfoCategory] = frozenset()  # information categories of the data written


class _Sink(Protocol):
    """Where checked rows go: straight to the repository, or held until the file is complete."""

    def add(self, items: Sequence[Any]) -> None: ...

    def close(self) -> int: ...


class RegistryImportService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        system_name: str,
        *,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        chunk_rows: int = 5_000,
    ) -> None:
        self._uow = uow
        self._system = system_name
        self._clock = clock
        self._new_id = new_id
        self._chunk_rows = chunk_rows

    def import_files(
        self,
        sources: Sequence[ImportSource],
        actor: str,
        *,
        skip_invalid: bool = False,
        progress_for: Callable[[RegistryFile], Progress] | None = None,
    ) -> tuple[FileImportResult, ...]:
        """Import each file in dependency order; a refused file does not stop the ones after it."""
        if not sources:
            raise InvalidInput("取り込むファイルを1つ以上指定してください。")
        kinds = [s.kind for s in sources]
        if len(set(kinds)) != len(kinds):
            raise InvalidInput("同じ種類のファイルが2つ指定されています。")
        ordered = sorted(sources, key=lambda s: IMPORT_ORDER.index(s.kind))
        return tuple(
            self.import_file(
                s, actor, skip_invalid=skip_invalid, progress=progress_for(s.kind) if progress_for else None
            )
            for s in ordered
        )

    def import_file(
        self,
        source: ImportSource,
        actor: str,
        *,
        skip_invalid: bool = False,
        progress: Progress | None = None,
    ) -> FileImportResult:
        digest = hashlib.sha256(source.data).hexdigest()
        try:
            parsed = read_csv(source.data, COLUMNS[source.kind])
        except CsvFormatError as exc:
            result = _unreadable(source, digest, exc)
        else:
            with self._uow() as uow:
                result = self._load(
                    uow.registry, source, digest, parsed, skip_invalid, progress or _no_progress
                )
                if result.outcome is not ImportOutcome.REJECTED:
                    uow.log.append([self._event(actor, result, skip_invalid)])
                    uow.commit()
                    return result
        # Refused: whatever was written is rolled back with the unit of work; the attempt is still logged.
        with self._uow() as uow:
            uow.log.append([self._event(actor, result, skip_invalid)])
            uow.commit()
        return result

    def _load(
        self,
        registry: RegistryRepository,
        source: ImportSource,
        digest: str,
        parsed: CsvFile,
        skip_invalid: bool,
        progress: Progress,
    ) -> FileImportResult:
        checker, sink = _pipeline(source.kind, registry)
        total = len(parsed.rows)
        progress(total, 0)
        errors: list[RowError] = []
        categories: set[InfoCategory] = set()
        rejected_rows = done = 0
        for chunk in chunks(parsed.rows, self._chunk_rows):
            checked = checker.check(chunk)
            bad = [c for c in checked if c.value is None]
            rejected_rows += len(bad)
            errors.extend(e for c in bad for e in c.errors)
            # All-or-nothing: after the first bad row nothing more is written, only checked and reported.
            if skip_invalid or not errors:
                good = [c.value for c in checked if c.value is not None]
                categories |= _categories_of(good)
                sink.add(good)
            done += len(chunk)
            progress(total, done)
        written = sink.close() if skip_invalid or not errors else 0
        return FileImportResult(
            kind=source.kind,
            source_name=source.name,
            sha256=digest,
            encoding=parsed.encoding,
            rows_read=total,
            rows_written=written,
            rows_rejected=rejected_rows,
            rejected=tuple(errors),
            outcome=_outcome(written, errors),
            categories=frozenset(categories) if written else frozenset(),
        )

    def _event(self, actor: str, result: FileImportResult, skip_invalid: bool) -> AccessEvent:
        detail = {
            "tag": AuditTag.REGISTRY_IMPORTED.value,
            "file": result.kind.value,
            "name": result.source_name,
            "sha256": result.sha256,
            "encoding": result.encoding,
            "rows_read": result.rows_read,
            "rows_written": result.rows_written,
            "rows_rejected": result.rows_rejected,
            "skip_invalid": skip_invalid,
            "outcome": result.outcome.value,
        }
        return AccessEvent(
            event_id=self._new_id(),
            ts=self._clock().astimezone(dt.UTC),
            system=self._system,
            account_id=actor,
            action=Action.ADMIN,
            resource_type=ResourceType.REGISTRY_IMPORT,
            resource_ids=(result.kind.value,),
            outcome=Outcome.ALLOWED,
            categories=tuple(sorted(c.value for c in result.categories)),
            detail=json.dumps(detail, ensure_ascii=False),
        )


def _pipeline(kind: RegistryFile, registry: RegistryRepository) -> tuple[RowChecker[Any], _Sink]:
    columns = len(COLUMNS[kind])
    if kind is RegistryFile.RETAILERS:
        return RowChecker(columns, check_retailer, retailer_key), _Direct(registry.upsert_retailers)
    if kind is RegistryFile.READING_CALENDAR:
        # Replacing a schedule's days must see all of them at once, so the calendar is written at the end.
        return RowChecker(columns, check_reading_day, reading_day_key), _Buffered(
            registry.replace_reading_days
        )
    rules = SupplyPointRules(frozenset(registry.retailer_codes()), frozenset(registry.reading_schedules()))
    return RowChecker(columns, rules.check, supply_point_key), _Direct(registry.upsert_supply_points)


class _Direct:
    """Writes each chunk as it comes, so a large file never sits in memory as domain objects."""

    def __init__(self, write: Callable[[Iterable[Any]], int]) -> None:
        self._write = write
        self._written = 0

    def add(self, items: Sequence[Any]) -> None:
        if items:
            self._written += self._write(items)

    def close(self) -> int:
        return self._written


class _Buffered:
    def __init__(self, write: Callable[[Iterable[Any]], int]) -> None:
        self._write = write
        self._items: list[Any] = []

    def add(self, items: Sequence[Any]) -> None:
        self._items.extend(items)

    def close(self) -> int:
        return self._write(self._items) if self._items else 0


def _unreadable(source: ImportSource, digest: str, exc: CsvFormatError) -> FileImportResult:
    try:
        encoding = decode(source.data)[1]
    except CsvFormatError:
        encoding = ""
    return FileImportResult(
        kind=source.kind,
        source_name=source.name,
        sha256=digest,
        encoding=encoding,
        rows_read=0,
        rows_written=0,
        rows_rejected=0,
        rejected=exc.errors,
        outcome=ImportOutcome.REJECTED,
    )


def _outcome(written: int, errors: Sequence[RowError]) -> ImportOutcome:
    if not errors:
        return ImportOutcome.IMPORTED
    return ImportOutcome.PARTIAL if written else ImportOutcome.REJECTED


def _categories_of(items: Sequence[Any]) -> set[InfoCategory]:
    """Only supply points carry non-public data; their contract category depends on the kind."""
    points = [i for i in items if isinstance(i, SupplyPoint)]
    if not points:
        return set()
    fixed = {FIXED_FIELD_CATEGORIES[c] for c in SUPPLY_POINT_COLUMNS if c not in CONTRACT_FIELDS}
    return fixed | {p.contract_category for p in points}


def _no_progress(_total: int, _done: int) -> None:
    return None


__all__ = [
    "FileImportResult",
    "ImportOutcome",
    "ImportSource",
    "Progress",
    "RegistryFile",  # re-exported: callers name the file kinds through this module
    "RegistryImportService",
]
