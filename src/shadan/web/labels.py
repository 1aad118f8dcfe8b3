"""Japanese labels for values shown on pages (presentation only; the API returns the raw enum values)."""

from __future__ import annotations

from enum import StrEnum

from shadan.domain.registry import SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.vocabulary import Action, AuditTag, CompanyKind, Outcome, ResourceType
from shadan.services.vault import SearchField

VALUE_LABELS: dict[StrEnum, str] = {
    SupplyPointKind.DEMAND: "需要",
    SupplyPointKind.GENERATION: "発電・買取",
    Voltage.LOW: "低圧",
    Voltage.HIGH: "高圧",
    Voltage.EXTRA_HIGH: "特別高圧",
    SupplyPointStatus.ACTIVE: "通常",
    SupplyPointStatus.PENDING_CANCELLATION: "廃止受付中",
    SupplyPointStatus.LOCKED: "ロック中",
    Action.VIEW: "照会",
    Action.SEARCH: "検索",
    Action.EXPORT: "出力",
    Action.UPDATE: "更新",
    Action.LOGIN: "ログイン",
    Action.LOGIN_FAILED: "ログイン失敗",
    Action.ADMIN: "管理操作",
    Outcome.ALLOWED: "許可",
    Outcome.DENIED: "拒否",
    CompanyKind.TD: "一般送配電事業者",
    CompanyKind.AFFILIATED_RETAIL: "関係小売電気事業者",
    CompanyKind.RETAIL: "小売電気事業者",
    CompanyKind.CONTRACTOR: "委託先",
    CompanyKind.REGULATOR: "電力・ガス取引監視等委員会",
    ResourceType.SUPPLY_POINT: "供給地点",
    ResourceType.ACCOUNT: "アカウント",
    ResourceType.PERSON: "個人",
    ResourceType.SESSION: "セッション",
    ResourceType.REGISTRY_IMPORT: "台帳の取込",
    ResourceType.ACCESS_LOG: "アクセスログ",
    ResourceType.SWITCHING: "スイッチング",
}

# Session events share the actions login / login_failed; the audit tag says which step it was.
SESSION_STEP_LABELS: dict[str, str] = {
    AuditTag.SESSION_STARTED: "ログイン（パスワード）",
    AuditTag.MFA_VERIFIED: "ログイン（確認コード）",
    AuditTag.LOGIN_REFUSED: "ログイン失敗",
    AuditTag.MFA_FAILED: "確認コード誤り",
    AuditTag.SESSION_ENDED: "ログアウト・セッション終了",
    AuditTag.SESSIONS_REVOKED: "セッション失効",
}

SEARCH_FIELD_LABELS: dict[SearchField, str] = {
    SearchField.ADDRESS: "需要場所住所",
    SearchField.NAME_KANA: "契約名義（カナ）",
    SearchField.NAME_KANJI: "契約名義（漢字）",
}

WITHHELD = "非表示（権限なし）"


def value_label(value: object) -> str:
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, StrEnum):
        return VALUE_LABELS.get(value, str(value))
    return str(value)
