"""Request and response bodies of the JSON API; the OpenAPI spec is generated from these."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from shadan.domain.access import Principal
from shadan.domain.events import AccessEvent
from shadan.domain.registry import SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.vocabulary import Action, Area, CompanyKind, InfoCategory, Outcome
from shadan.services.vault import RecordView, SearchField

# Free text from the network reaches SQL binds and the access log: refuse control characters (NUL breaks
# PostgreSQL text) up front, so such input is a 422 and never a store error.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
# A search term: printable, and no white space at either end (the service trims it, so the schema says
# what the service accepts: at least two characters that are not white space).
SEARCH_TERM = r"^[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f]$"


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE, description="個人アカウントID")
    # NIST SP 800-63B allows long passphrases; the cap only bounds hashing work per request.
    password: str = Field(min_length=1, max_length=1024, description="パスワード")


class LoginResponse(BaseModel):
    session_token: str = Field(description="以後 Authorization: Bearer で送るトークン")
    token_type: str = Field(default="bearer")
    mfa_required: bool = Field(description="true なら POST /api/v1/session/mfa で確認コードを送るまで無効")


class MfaRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Full-width digits and spaces come from Japanese IMEs; they are normalised before checking.
    code: str = Field(min_length=6, max_length=12, pattern=r"^[0-9０-９ 　]+$", description="TOTP確認コード")


class MeResponse(BaseModel):
    account_id: str
    person_id: str
    company_id: str
    company_kind: CompanyKind
    department: str
    area: Area | None
    roles: list[str]
    purposes: list[str] = Field(description="この利用者が選べる利用目的")
    emergency: bool

    @classmethod
    def of(cls, principal: Principal, purposes: list[str]) -> MeResponse:
        return cls(
            account_id=principal.account_id,
            person_id=principal.person_id,
            company_id=principal.company_id,
            company_kind=principal.company_kind,
            department=principal.department,
            area=principal.area,
            roles=sorted(principal.roles),
            purposes=purposes,
            emergency=principal.emergency,
        )


class AccessEventOut(BaseModel):
    event_id: str
    ts: dt.datetime = Field(description="UTC（画面では日本時間で表示）")
    action: Action
    resource_type: str
    resource_ids: list[str]
    outcome: Outcome
    purpose: str
    categories: list[str]
    withheld_categories: list[str]
    terminal_id: str
    source_ip: str

    @classmethod
    def of(cls, event: AccessEvent) -> AccessEventOut:
        return cls(
            event_id=event.event_id,
            ts=event.ts,
            action=event.action,
            resource_type=str(event.resource_type),
            resource_ids=list(event.resource_ids),
            outcome=event.outcome,
            purpose=event.purpose,
            categories=list(event.categories),
            withheld_categories=list(event.withheld_categories),
            terminal_id=event.terminal_id,
            source_ip=event.source_ip,
        )


class AccessHistoryResponse(BaseModel):
    events: list[AccessEventOut] = Field(description="新しい順")


class CategoryRef(BaseModel):
    id: InfoCategory
    label: str

    @classmethod
    def of(cls, category: InfoCategory) -> CategoryRef:
        return cls(id=category, label=category.label)


class SupplyPointFields(BaseModel):
    """Only the fields of shown categories are present; a withheld field is absent, never null."""

    supply_point_id: str | None = None
    kind: SupplyPointKind | None = None
    voltage: Voltage | None = None
    status: SupplyPointStatus | None = None
    switching_target: bool | None = None
    reading_schedule: str | None = None
    address: str | None = None
    building: str | None = None
    transformer_id: str | None = None
    feeder_id: str | None = None
    retailer_code: str | None = None
    contract_no: str | None = None
    name_kana: str | None = None
    name_kanji: str | None = None
    phone: str | None = None


class SupplyPointRecord(BaseModel):
    supply_point_id: str = Field(description="供給地点特定番号（22桁、正規化済み）")
    fields: SupplyPointFields
    shown_categories: list[CategoryRef]
    withheld_categories: list[CategoryRef] = Field(
        description="権限がなく非表示とした情報区分（値は含まない）"
    )

    @classmethod
    def of(cls, view: RecordView) -> SupplyPointRecord:
        return cls(
            supply_point_id=view.supply_point_id,
            fields=SupplyPointFields.model_validate({f.name: f.value for f in view.fields}),
            shown_categories=[CategoryRef.of(c) for c in InfoCategory if c in view.shown],
            withheld_categories=[CategoryRef.of(c) for c in InfoCategory if c in view.withheld],
        )


class SearchResponse(BaseModel):
    field: SearchField
    count: int
    results: list[SupplyPointRecord]
