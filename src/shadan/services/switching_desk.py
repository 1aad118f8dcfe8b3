"""Switching work for people at the pages and the JSON API: the same service methods for both.

Who may: a T&D principal (not an emergency account) whose roles give the purpose スイッチング処理
(e.g. wheeling_clerk), for supply points of their own company's area only. Anyone else is refused with
AccessDenied, and the refusal is logged first. Within the area rule, another area's supply point is
answered exactly as one that does not exist (01 in results, 404 for a status), so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass

from shadan.domain.access import Principal, RequestContext
from shadan.domain.errors import AccessDenied, InvalidInput
from shadan.domain.roles import RoleCatalog
from shadan.domain.switching import SWITCHING_PURPOSE, SwitchingAuditTag
from shadan.domain.vocabulary import Action, CompanyKind, Outcome
from shadan.services.event_origin import request_origin
from shadan.services.exports import ExportFormat, ExportTable, export
from shadan.services.ports import AccessLogSink
from shadan.services.switching_cases import SubmissionReport, SupplyPointCase, SwitchingCaseService
from shadan.services.switching_events import SwitchingActor, SwitchingEvents

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # docs/switching.md: about 100,000 applications
FILE_NAME_MAX = 200
REFUSED_MESSAGE = (
    "スイッチング処理を行う権限がありません"
    "（一般送配電事業者で、利用目的「スイッチング処理」を持つ役割の方が、自エリアについてのみ行えます）。"
)
TOO_LARGE_MESSAGE = (
    f"ファイルが大きすぎます（上限 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB）。"
    "ファイルを分けて登録してください。"
)


class UploadTooLarge(InvalidInput):
    code = "upload_too_large"

    def __init__(self) -> None:
        super().__init__(TOO_LARGE_MESSAGE)


@dataclass(frozen=True, slots=True)
class Upload:
    file_name: str
    data: bytes

    def __post_init__(self) -> None:
        if len(self.data) > MAX_UPLOAD_BYTES:
            raise UploadTooLarge
        if not self.data.strip():
            raise InvalidInput("ファイルが空です。申込のCSVファイルを選んでください。")


@dataclass(frozen=True, slots=True)
class Download:
    filename: str
    media_type: str
    content: bytes


RESULT_HEADERS = ("行", "申込番号", "結果", "エラーコード", "エラーコード（すべて）", "内容", "状態")


def results_table(report: SubmissionReport) -> ExportTable:
    """A submission's results for people: one row per application row, in file order."""
    rows = (
        (
            row.record.line,
            row.record.application_id,
            row.record.result.label,
            row.record.error_code,
            " ".join(code.value for code in row.record.error_codes),
            row.record.message,
            row.record.state.label,
        )
        for row in report.rows
    )
    return ExportTable(f"申込登録{report.submission_id}", RESULT_HEADERS, rows)


class SwitchingDesk:
    def __init__(
        self, cases: SwitchingCaseService, catalog: RoleCatalog, events: SwitchingEvents, log: AccessLogSink
    ) -> None:
        self._cases = cases
        self._catalog = catalog
        self._events = events
        self._log = log

    def allows(self, principal: Principal) -> bool:
        return processes_switching(self._catalog, principal)

    def admit(self, principal: Principal, context: RequestContext, action: Action) -> SwitchingActor:
        """The principal as a switching actor of its area; a refusal is logged, then raised."""
        actor = SwitchingActor(**request_origin(principal, context), area=principal.area)
        if self.allows(principal):
            return actor
        event = self._events.event(
            actor, action, SwitchingAuditTag.REFUSED, outcome=Outcome.DENIED, reason="no switching purpose"
        )
        self._log.record([event])
        raise AccessDenied(REFUSED_MESSAGE)

    def submit(
        self, principal: Principal, context: RequestContext, upload: Upload, *, strict: bool = False
    ) -> SubmissionReport:
        actor = self.admit(principal, context, Action.UPDATE)
        return self._cases.submit(upload.data, actor, strict=strict, source_name=_name(upload))

    def start(self, principal: Principal, context: RequestContext, upload: Upload) -> SubmissionReport:
        actor = self.admit(principal, context, Action.UPDATE)
        return self._cases.start(upload.data, actor, source_name=_name(upload))

    def results(
        self, principal: Principal, context: RequestContext, submission_id: int, action: Action = Action.VIEW
    ) -> SubmissionReport:
        return self._cases.results(submission_id, self.admit(principal, context, action), action)

    def download(
        self, principal: Principal, context: RequestContext, submission_id: int, fmt: ExportFormat
    ) -> Download:
        report = self.results(principal, context, submission_id, Action.EXPORT)
        filename = f"switching-results-{submission_id}{fmt.suffix}"
        return Download(filename, fmt.media_type, export(results_table(report), fmt))

    def status(self, principal: Principal, context: RequestContext, supply_point_id: str) -> SupplyPointCase:
        return self._cases.status(supply_point_id, self.admit(principal, context, Action.VIEW))


def processes_switching(catalog: RoleCatalog, principal: Principal) -> bool:
    """T&D staff of an area whose roles give the purpose スイッチング処理 (never an emergency account)."""
    return (
        principal.company_kind is CompanyKind.TD
        and principal.area is not None
        and not principal.emergency
        and SWITCHING_PURPOSE in catalog.purposes_of(principal.roles)
    )


def _name(upload: Upload) -> str:
    # Only the base name, printable and bounded: it is shown on pages and kept in the log.
    name = upload.file_name.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c for c in name if c.isprintable()).strip()
    return printable[:FILE_NAME_MAX] or "applications.csv"
