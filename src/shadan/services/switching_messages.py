"""The Japanese `message` of a result row: what failed and what the applicant should fix.

A message never quotes the registry: the applicant is a new retailer, and the registered contract number,
name and address of another retailer's customer are exactly what the firewall keeps from it. It says which
field differs and where the right value is found (the customer's 検針票). The cancel-date window is the
exception, since the applicant cannot fix the date without it, and it derives from the published calendar.
Messages are built once per distinct set of findings (cached), so a million rows share a few hundred
strings. Every message is encodable in CP932, so results open in Excel as Shift_JIS too.
"""

from __future__ import annotations

from functools import lru_cache

from shadan.domain.switching import ErrorCode, Finding, Reason, codes_of

ACCEPTED_MESSAGE = "すべての確認に合格しました（確認のみで、申込はまだ登録されていません）。"
SUBMITTED_MESSAGE = "受け付けました。開始申込とのマッチングを待っています。"
START_ACCEPTED_MESSAGE = (
    "受け付けました。同じ供給地点・新小売事業者・日付の廃止取次とのマッチングを待っています。"
)

_FIXED: dict[Reason, str] = {
    Reason.NOT_FOUND: (
        "供給地点特定番号と現小売事業者の組み合わせに該当する契約がありません。"
        "検針票等で供給地点特定番号（22桁）と、現在ご契約の小売電気事業者をご確認ください。"
    ),
    Reason.NOT_TARGET: (
        "この供給地点はスイッチング支援システムの対象外のため、廃止取次を受け付けられません。"
        "現小売電気事業者へ直接お問い合わせください。"
    ),
    Reason.CONTRACT_NO: (
        "旧小売電気事業者契約番号が登録内容と一致しません。検針票等に記載の現在の契約番号をご確認ください。"
    ),
    Reason.PENDING_IN_REGISTRY: (
        "この供給地点は既に廃止申込を受付中です。重複した申込でないかご確認ください。"
    ),
    Reason.ADDRESS: (
        "住所が登録内容と一致しません。検針票等に記載の需要場所の住所どおりにご入力ください"
        "（建物名は照合しません）。"
    ),
    Reason.LOCKED: (
        "この供給地点はスイッチングの手続き中（マッチング済み）のため、廃止取次を受け付けられません。"
    ),
    Reason.SAME_RETAILER: (
        "新小売事業者が現小売事業者と同じです。同じ事業者の間では廃止取次はできません。"
        "新小売事業者のコードをご確認ください。"
    ),
}
# What normal mode forgives, said so the applicant does not chase differences that do not matter.
_FORGIVEN: dict[ErrorCode, str] = {
    ErrorCode.CONTRACT_NO: "全角・半角、空白、ハイフンの違いは問いません。",
    ErrorCode.NAME: (
        "空白、全角・半角、ひらがな・カタカナ、長音記号、旧字体・異体字（髙・﨑など）、"
        "株式会社・(株)の書き方の違いは問いません。"
    ),
    ErrorCode.ADDRESS: (
        "空白、全角・半角、漢数字、「1丁目2番3号」と「1-2-3」、ヶ・ケ・が、都道府県名の省略の違いは問いません。"
    ),
}
_FORGIVEN_STRICT: dict[ErrorCode, str] = {ErrorCode.CONTRACT_NO: _FORGIVEN[ErrorCode.CONTRACT_NO]}


@lru_cache(maxsize=4096)
def result_message(findings: tuple[Finding, ...], *, strict: bool = False) -> str:
    """One part per failing code, in ascending code order: 【04 名義不一致エラー】…"""
    if not findings:
        return ACCEPTED_MESSAGE
    parts = []
    for code in codes_of(findings):
        of_code = tuple(f for f in findings if f.code is code)
        parts.append(f"【{code.value} {code.label}】{_text(code, of_code, strict=strict)}")
    return " ".join(parts)


def _text(code: ErrorCode, findings: tuple[Finding, ...], *, strict: bool) -> str:
    if code is ErrorCode.NAME:
        text = _name_text(findings)
    elif code is ErrorCode.CANCEL_DATE:
        text = _date_text(findings[0])
    else:
        text = "".join(_reason_text(f) for f in findings)
    forgiven = (_FORGIVEN_STRICT if strict else _FORGIVEN).get(code)
    return f"{text}（{forgiven}）" if forgiven else text


def _reason_text(finding: Finding) -> str:
    if finding.reason is Reason.PENDING_IN_RUN:
        return (
            f"同じファイルの申込「{finding.earlier_application}」で、この供給地点の廃止取次を先に受け付けています。"
            "重複した申込でないかご確認ください。"
        )
    return _FIXED[finding.reason]


def _name_text(findings: tuple[Finding, ...]) -> str:
    fields = "・".join(
        label
        for reason, label in ((Reason.NAME_KANA, "需要者名カナ"), (Reason.NAME_KANJI, "需要者名漢字"))
        if any(f.reason is reason for f in findings)
    )
    return f"{fields}が登録内容と一致しません。検針票等に記載の契約名義どおりにご入力ください。"


def _date_text(finding: Finding) -> str:
    window = finding.window
    if window is None:  # never: 06 findings always carry their window
        return "廃止年月日が受付できる期間外です。"
    allowed = f"{window.earliest.isoformat()} 以降"
    if window.latest is not None:
        allowed += f"、{window.latest.isoformat()} より前"
    if finding.reason is Reason.TOO_EARLY:
        head = "廃止年月日が早すぎます（受付日の翌営業日から2日後より前の日付は指定できません）。"
    else:
        head = "廃止年月日が次々回検針日以降です（次々回検針日より前の日付を指定してください）。"
    return f"{head}{allowed}の日付を指定してください。"


# A start application names no current retailer, and is a start rather than a cancellation (廃止取次).
_START_TEXT: dict[Reason, str] = {
    Reason.NOT_FOUND: (
        "供給地点特定番号に該当する供給地点がありません。検針票等で供給地点特定番号（22桁）をご確認ください。"
    ),
    Reason.NOT_TARGET: (
        "この供給地点はスイッチング支援システムの対象外のため、開始申込を受け付けられません。"
    ),
    Reason.LOCKED: (
        "この供給地点はスイッチングの手続き中（マッチング済み）のため、開始申込を受け付けられません。"
    ),
    Reason.SAME_RETAILER: (
        "新小売事業者がこの供給地点の現在の小売事業者です。新小売事業者のコードをご確認ください。"
    ),
}


@lru_cache(maxsize=64)
def start_message(findings: tuple[Finding, ...]) -> str:
    """The message of a start application's result, one part per failing code."""
    if not findings:
        return START_ACCEPTED_MESSAGE
    parts = []
    for code in codes_of(findings):
        text = "".join(_START_TEXT[f.reason] for f in findings if f.code is code)
        parts.append(f"【{code.value} {code.label}】{text}")
    return " ".join(parts)
