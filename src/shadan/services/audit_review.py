"""The auditors' view of the access log (DESIGN §4.3): the log's status, event search, exports, proofs.

Internal audit (roles that administer the access log) may search, export and download proof files; the
regulator, the log's outside witness, sees the status only; everyone else is refused. Every look,
allowed or refused, is itself an access event, durable before anything is returned (fail closed). The
JSON API and the pages call the same methods.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from shadan.domain.access import Principal, RequestContext
from shadan.domain.errors import AccessDenied, InvalidInput, NotFound, SearchTooBroad
from shadan.domain.events import AccessEvent
from shadan.domain.japan_time import JST
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import Action, AdminArea, AuditTag, CompanyKind, Outcome, ResourceType
from shadan.services.audit_filters import EventFilters, FilterInput
from shadan.services.audit_log import CheckpointInfo, VerificationRun, WitnessQuorum
from shadan.services.event_origin import request_origin
from shadan.services.exports import ExportFormat, ExportTable, export
from shadan.services.ports import AccessLogSink, UnitOfWorkFactory

_Read = TypeVar("_Read")  # what a search reads: a page's events and count, or an export's events

PAGE_SIZE = 100
# An export holds at most this many events, newest first; beyond it the pages say so and the auditor
# narrows the filters (the monthly Parquet archive is the way to take out whole periods).
EXPORT_ROW_CAP = 10_000
COSIGNATURES_SHOWN = 20
LEFT_OUT_SHOWN = 20  # entries left out of the tree named on the status page
DENIED_MESSAGE = "アクセスログを閲覧する権限がありません。"
TOO_BROAD_MESSAGE = (
    "検索が制限時間内に終わらなかったため中止しました。供給地点特定番号、個人ID、アカウントIDのいずれかで"
    "絞り込むか、期間を短くしてください（どれもない検索は、期間に当たるイベントを新しい順にすべて読みます）。"
)


class AuditAccess(StrEnum):
    """What a principal may do on the auditors' pages."""

    NONE = "none"
    STATUS = "status"  # the regulator: the log's health, never its events
    REVIEW = "review"  # internal audit: status, search, export, proofs

    @classmethod
    def of(cls, catalog: RoleCatalog, principal: Principal) -> AuditAccess:
        if catalog.administers(principal.roles, AdminArea.ACCESS_LOG):
            return cls.REVIEW
        if principal.company_kind is CompanyKind.REGULATOR:
            return cls.STATUS
        return cls.NONE


# ---- What the pages show ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A row of the log. `event` is None for an entry that is no event shadan writes (stored straight into
    the table): `unreadable_entry` then holds its first UNREADABLE_SHOWN characters, for the auditor."""

    seq: int
    event: AccessEvent | None
    company_name: str = ""
    unreadable_entry: str = ""


@dataclass(frozen=True, slots=True)
class Cosignature:
    witness_name: str
    tree_size: int
    cosigned_at: dt.datetime
    received_at: dt.datetime


@dataclass(frozen=True, slots=True)
class WitnessStanding:
    """Where one witness stands: its cosignature of the largest tree, if any, and how many leaves the
    latest checkpoint holds beyond it."""

    witness_name: str
    asked: bool  # the log hands it each new checkpoint (SHADAN_LOG_WITNESSES); else imported only
    newest: Cosignature | None
    behind: int | None  # leaves of the latest checkpoint it has not cosigned; None without either

    @classmethod
    def of(
        cls, name: str, asked: bool, newest: Cosignature | None, latest: CheckpointInfo | None
    ) -> WitnessStanding:
        behind = None if newest is None or latest is None else max(latest.size - newest.tree_size, 0)
        return cls(name, asked, newest, behind)


@dataclass(frozen=True, slots=True)
class LogCounts:
    """The log's size as its state rows tell it, without counting years of events: the leaves, the
    events still waiting for one, and the leaves whose events retention deleted with a signed record.
    That each leaf still has its event is what verification checks, not what this counts."""

    tree_size: int
    pending_events: int  # committed, not yet given a leaf by the sequencer
    deleted_events: int  # leaves of segments deleted whole after the retention period

    @property
    def events_total(self) -> int:
        """The events the database holds."""
        return self.tree_size - self.deleted_events + self.pending_events


@dataclass(frozen=True, slots=True)
class LogStatus:
    origin: str | None
    counts: LogCounts
    latest_checkpoint: CheckpointInfo | None
    last_verification: VerificationRun | None
    cosignatures: tuple[Cosignature, ...]
    witnessed: WitnessQuorum
    witnesses: tuple[WitnessStanding, ...]  # the witnesses asked, in their order, then the others'
    verification_overdue: bool  # sequenced events and no verification within the maximum age
    verification_max_age: dt.timedelta
    # The first event that has waited for its leaf longer than the maximum wait: the sequencer stalled.
    stalled_seq: int | None
    sequencing_max_wait: dt.timedelta
    # The first entries the sequencer left out whose rows wait to be set aside, one more than are shown;
    # None when an entry that is no JSON keeps them from being read (verification reports that).
    left_out: tuple[int, ...] | None

    @property
    def left_out_seqs(self) -> tuple[int, ...] | None:
        """The first LEFT_OUT_SHOWN of them."""
        return None if self.left_out is None else self.left_out[:LEFT_OUT_SHOWN]

    @property
    def more_left_out(self) -> bool:
        return self.left_out is not None and len(self.left_out) > LEFT_OUT_SHOWN

    @property
    def leaves_since_verification(self) -> int | None:
        """Leaves the tree gained after the last verification (None before the first)."""
        run = self.last_verification
        return None if run is None else max(self.counts.tree_size - run.tree_size, 0)

    @property
    def quorum_out_of_reach(self) -> bool:
        """Whether the log has witnesses but the quorum needs more than ever cosigned or are asked: no
        checkpoint can have it until another witness's cosignatures come (imported from an offline one,
        say). A log without any witness says so on its own."""
        return 0 < len(self.witnesses) < self.witnessed.quorum


@dataclass(frozen=True, slots=True)
class SearchPage:
    filters: EventFilters
    events: tuple[LoggedEvent, ...]
    next_before: int | None  # pass as `before` for the next (older) page
    matched: int | None  # matching events, counted up to export_cap + 1; None: not within the time limit
    export_cap: int

    @property
    def export_capped(self) -> bool:
        return self.matched is not None and self.matched > self.export_cap


@dataclass(frozen=True, slots=True)
class ExportFile:
    content: bytes
    filename: str
    media_type: str
    rows: int
    capped: bool


# ---- Ports ----------------------------------------------------------------------------------------------


class SearchTimedOut(Exception):
    """A search read the log for longer than its time limit and was stopped (LogSearch)."""


class LogSearch(Protocol):
    """Read-only queries over the access log and the records of what was done to it."""

    def counts(self) -> LogCounts: ...

    def first_waiting_since(self, before: dt.datetime) -> int | None:
        """The first event not in the tree yet whose entry states a time earlier than `before`."""
        ...

    def left_out_entries(self, limit: int) -> tuple[int, ...] | None:
        """The first `limit` seqs of entries the sequencer recorded as left out whose rows are still there;
        None when they cannot be read."""
        ...

    def recent_cosignatures(self, limit: int) -> list[Cosignature]:
        """Newest checkpoints first."""
        ...

    def newest_cosignatures(self) -> list[Cosignature]:
        """Each witness's cosignature of the largest tree, one a witness name, by name."""
        ...

    def search(self, filters: EventFilters, before: int | None, limit: int) -> list[LoggedEvent]:
        """Matching events with seq < before (all when None), newest first; SearchTimedOut when that
        takes longer than the search's time limit."""
        ...

    def page(
        self, filters: EventFilters, before: int | None, limit: int, cap: int
    ) -> tuple[list[LoggedEvent], int | None]:
        """The events `search` reads, and how many match counting no further than `cap`, within one time
        limit: SearchTimedOut when the events take longer; the count None when it takes what is left."""
        ...


class SignedLog(Protocol):
    """The transparency log's use cases that the auditors' pages need (AuditLogService)."""

    def latest_checkpoint(self) -> CheckpointInfo | None: ...

    def last_verification(self) -> VerificationRun | None: ...

    def witness_quorum(self) -> WitnessQuorum: ...

    def proof(self, seq: int) -> str:
        """The event's tlog-proof file (NotFound for an unknown event)."""
        ...


# ---- The service ----------------------------------------------------------------------------------------

# An entry that is no event shadan writes (LoggedEvent.event is None), as pages and files name it, and
# how much of its text they show: enough to see what it is, whatever its size.
UNREADABLE_ENTRY = "読み取れないエントリ"
UNREADABLE_SHOWN = 2000

EXPORT_HEADERS = (
    "連番",
    "日時（日本時間）",
    "アカウントID",
    "個人ID",
    "会社ID",
    "会社名",
    "操作",
    "対象の種類",
    "対象ID",
    "表示した情報区分",
    "非表示とした情報区分",
    "利用目的",
    "結果",
    "端末ID",
    "接続元IPアドレス",
    "判断したポリシー",
    "詳細",
    "付加情報",
    "システム",
    "イベントID",
)


class AuditReviewService:
    def __init__(
        self,
        search: LogSearch,
        signed_log: SignedLog,
        uow: UnitOfWorkFactory,
        log: AccessLogSink,
        catalog: RoleCatalog,
        system_name: str,
        *,
        verification_max_age: dt.timedelta,  # SHADAN_LOG_VERIFICATION_MAX_AGE_HOURS, defined in the settings
        sequencing_max_wait: dt.timedelta,  # SHADAN_LOG_SEQUENCING_MAX_WAIT_MINUTES, likewise
        witness_names: Sequence[str] = (),
        export_cap: int = EXPORT_ROW_CAP,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._search = search
        self._signed_log = signed_log
        self._uow = uow
        self._log = log
        self._catalog = catalog
        self._system = system_name
        self._witness_names = tuple(witness_names)
        self._verification_max_age = verification_max_age
        self._sequencing_max_wait = sequencing_max_wait
        self._export_cap = export_cap
        self._new_id = new_id

    def access(self, principal: Principal) -> AuditAccess:
        return AuditAccess.of(self._catalog, principal)

    def status(self, principal: Principal, context: RequestContext) -> LogStatus:
        self._require(principal, context, AuditAccess.STATUS, Action.VIEW, AuditTag.LOG_STATUS_VIEWED)
        latest = self._signed_log.latest_checkpoint()
        counts = self._search.counts()
        run = self._signed_log.last_verification()
        status = LogStatus(
            origin=latest.origin if latest else None,
            counts=counts,
            latest_checkpoint=latest,
            last_verification=run,
            cosignatures=tuple(self._search.recent_cosignatures(COSIGNATURES_SHOWN)),
            witnessed=self._signed_log.witness_quorum(),
            witnesses=self._standings(latest),
            verification_overdue=counts.tree_size > 0
            and (run is None or context.now - run.finished_at > self._verification_max_age),
            verification_max_age=self._verification_max_age,
            stalled_seq=self._search.first_waiting_since(context.now - self._sequencing_max_wait)
            if counts.pending_events
            else None,
            sequencing_max_wait=self._sequencing_max_wait,
            left_out=self._search.left_out_entries(LEFT_OUT_SHOWN + 1),
        )
        self._record(principal, context, Action.VIEW, AuditTag.LOG_STATUS_VIEWED)
        return status

    def _standings(self, latest: CheckpointInfo | None) -> tuple[WitnessStanding, ...]:
        """The witnesses the log asks, in the settings' order, then every other that ever cosigned."""
        newest = {c.witness_name: c for c in self._search.newest_cosignatures()}
        asked = [WitnessStanding.of(n, True, newest.get(n), latest) for n in self._witness_names]
        others = [
            WitnessStanding.of(n, False, c, latest) for n, c in newest.items() if n not in self._witness_names
        ]
        return tuple(asked + others)

    def search(
        self, principal: Principal, raw: FilterInput, context: RequestContext, before: int | None = None
    ) -> SearchPage:
        tag = AuditTag.LOG_SEARCHED
        self._require(principal, context, AuditAccess.REVIEW, Action.SEARCH, tag, raw)
        filters = self._parse(principal, context, Action.SEARCH, tag, raw)
        found, matched = self._read(
            principal,
            context,
            Action.SEARCH,
            tag,
            filters,
            before,
            lambda: self._search.page(filters, before, PAGE_SIZE + 1, self._export_cap + 1),
        )
        shown = self._with_company_names(found[:PAGE_SIZE])
        page = SearchPage(
            filters=filters,
            events=tuple(shown),
            next_before=shown[-1].seq if len(found) > PAGE_SIZE else None,
            matched=matched,
            export_cap=self._export_cap,
        )
        # The seqs shown are what the auditor saw: they are recorded like the ids a search returns.
        ids = tuple(str(e.seq) for e in shown)
        self._record(principal, context, Action.SEARCH, tag, ids, _asked(filters, before))
        return page

    def export(
        self, principal: Principal, raw: FilterInput, fmt: ExportFormat, context: RequestContext
    ) -> ExportFile:
        tag = AuditTag.LOG_EXPORTED
        self._require(principal, context, AuditAccess.REVIEW, Action.EXPORT, tag, raw)
        filters = self._parse(principal, context, Action.EXPORT, tag, raw)
        found = self._read(
            principal,
            context,
            Action.EXPORT,
            tag,
            filters,
            None,
            lambda: self._search.search(filters, None, self._export_cap + 1),
        )
        rows = self._with_company_names(found[: self._export_cap])
        capped = len(found) > self._export_cap
        table = ExportTable("アクセスログ", EXPORT_HEADERS, [_export_row(e) for e in rows])
        stamp = context.now.astimezone(JST).strftime("%Y%m%d-%H%M%S")
        file = ExportFile(
            export(table, fmt), f"shadan-access-log-{stamp}{fmt.suffix}", fmt.media_type, len(rows), capped
        )
        extra = {"filters": filters.as_extra(), "format": fmt.value, "rows": file.rows, "capped": capped}
        self._record(principal, context, Action.EXPORT, tag, (), extra)
        return file

    def proof(self, principal: Principal, seq: int, context: RequestContext) -> str:
        """The event's C2SP tlog-proof file; an unknown seq is NotFound (and logged as such)."""
        tag = AuditTag.LOG_PROOF_EXPORTED
        ids = (str(seq),)
        self._require(principal, context, AuditAccess.REVIEW, Action.EXPORT, tag, ids=ids)
        try:
            text = self._signed_log.proof(seq)
        except NotFound:
            self._record(principal, context, Action.EXPORT, tag, ids, {"refused": "not_found"}, denied=True)
            raise
        self._record(principal, context, Action.EXPORT, tag, ids)
        return text

    def _require(
        self,
        principal: Principal,
        context: RequestContext,
        needed: AuditAccess,
        action: Action,
        tag: AuditTag,
        raw: FilterInput | None = None,
        ids: tuple[str, ...] = (),
    ) -> None:
        """Refuse (403) and log the refusal before anything is read; what was asked for is kept."""
        access = self.access(principal)
        if access is AuditAccess.REVIEW or access is needed:
            return
        extra = {"refused": "not_permitted"} | ({"filters": raw.logged()} if raw else {})
        self._record(principal, context, action, tag, ids, extra, denied=True)
        raise AccessDenied(DENIED_MESSAGE)

    def _parse(
        self, principal: Principal, context: RequestContext, action: Action, tag: AuditTag, raw: FilterInput
    ) -> EventFilters:
        try:
            return EventFilters.parse(raw)
        except InvalidInput:
            extra = {"refused": "invalid_input", "filters": raw.logged()}
            self._record(principal, context, action, tag, (), extra, denied=True)
            raise

    def _read(
        self,
        principal: Principal,
        context: RequestContext,
        action: Action,
        tag: AuditTag,
        filters: EventFilters,
        before: int | None,
        read: Callable[[], _Read],
    ) -> _Read:
        """What `read` reads; a search stopped at its time limit is refused (and logged) as too broad."""
        try:
            return read()
        except SearchTimedOut:
            extra = {"refused": "too_broad"} | _asked(filters, before)
            self._record(principal, context, action, tag, (), extra, denied=True)
            raise SearchTooBroad(TOO_BROAD_MESSAGE) from None

    def _with_company_names(self, events: Sequence[LoggedEvent]) -> list[LoggedEvent]:
        with self._uow() as uow:
            companies = {
                company_id: uow.identity.get_company(company_id)
                for company_id in {e.event.company_id for e in events if e.event and e.event.company_id}
            }
        names = {company_id: c.name for company_id, c in companies.items() if c is not None}
        return [replace(e, company_name=names.get(e.event.company_id, "")) if e.event else e for e in events]

    def _record(
        self,
        principal: Principal,
        context: RequestContext,
        action: Action,
        tag: AuditTag,
        ids: tuple[str, ...] = (),
        extra: dict[str, Any] | None = None,
        denied: bool = False,
    ) -> None:
        """Durable before the caller returns anything (AuditUnavailable otherwise: fail closed)."""
        event = AccessEvent(
            event_id=self._new_id(),
            ts=context.now.astimezone(dt.UTC),
            system=self._system,
            **request_origin(principal, context),
            action=action,
            resource_type=ResourceType.ACCESS_LOG,
            resource_ids=ids,
            outcome=Outcome.DENIED if denied else Outcome.ALLOWED,
            purpose=context.purpose or "",
            detail=str(tag),
            extra=extra or {},
        )
        self._log.record([event])


def _asked(filters: EventFilters, before: int | None) -> dict[str, Any]:
    """What a search asked for, as its access event keeps it."""
    return {"filters": filters.as_extra()} | ({"before": before} if before else {})


def finding_titles(run: VerificationRun) -> tuple[str, ...]:
    """One Japanese line per kind of failure a verification run found, in reporting order."""
    return tuple(kind.titles[0] for kind in dict.fromkeys(f.kind for f in run.failures))


def extras_text(event: AccessEvent) -> str:
    """The event's extras (e.g. a search term) as one line of JSON, for tables and files."""
    return json.dumps(event.extra, ensure_ascii=False, sort_keys=True) if event.extra else ""


def _export_row(logged: LoggedEvent) -> tuple[str | int | dt.datetime, ...]:
    e = logged.event
    if e is None:
        return _unreadable_row(logged)
    return (
        logged.seq,
        e.ts,
        e.account_id,
        e.person_id,
        e.company_id,
        logged.company_name,
        str(e.action),
        str(e.resource_type),
        " ".join(e.resource_ids),
        " ".join(e.categories),
        " ".join(e.withheld_categories),
        e.purpose,
        str(e.outcome),
        e.terminal_id,
        e.source_ip,
        " ".join(e.policy_ids),
        e.detail,
        extras_text(e),
        e.system,
        e.event_id,
    )


def _unreadable_row(logged: LoggedEvent) -> tuple[str | int | dt.datetime, ...]:
    """Its seq, and its text where the details go; every other column empty."""
    row: list[str | int | dt.datetime] = [""] * len(EXPORT_HEADERS)
    row[0] = logged.seq
    row[EXPORT_HEADERS.index("詳細")] = f"{UNREADABLE_ENTRY}: {logged.unreadable_entry}"
    return tuple(row)
