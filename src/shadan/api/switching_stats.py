"""GET /api/v1/switching/statistics and /fraud-signals: the same service calls as the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shadan.api.deps import CallerDep, ContextDep, ShadanDep, as_principal
from shadan.api.errors import error_responses
from shadan.domain.switching import ErrorCode
from shadan.domain.vocabulary import Area
from shadan.services.switching_fraud import FraudSignals
from shadan.services.switching_fraud_signals import Heuristic, Signal
from shadan.services.switching_oversight import ViewRequest
from shadan.services.switching_periods import Period
from shadan.services.switching_stats import CodeCount, PeriodStatistics, SwitchingStatistics

router = APIRouter(prefix="/switching", tags=["スイッチング"])

FromQuery = Annotated[
    dt.date | None,
    Query(alias="from", description="開始日（日本時間、この日を含む）。省略時は終了日の11か月前の月初"),
]
ToQuery = Annotated[
    dt.date | None, Query(alias="to", description="終了日（日本時間、この日を含む）。省略時は今日")
]
PeriodQuery = Annotated[
    Period, Query(description="集計単位（month: 月別、week: 週別（月曜始まり）、day: 日別）")
]
AreaQuery = Annotated[
    Area | None, Query(description="エリア（監視委員会のみ選択可。一般送配電事業者は自社エリアに限られます）")
]


class CodeCountOut(BaseModel):
    code: ErrorCode
    label: str = Field(description="項目名")
    count: int = Field(description="主エラー（error_code）とした申込の件数")
    share: float | None = Field(description="エラー件数に対する比率（0〜1）。エラーがなければ null")
    share_percent: float | None = Field(description="比率（%、小数第1位で四捨五入）")
    listed: int = Field(description="error_codes にこのコードを含む申込の件数")

    @classmethod
    def of(cls, count: CodeCount) -> CodeCountOut:
        return cls(
            code=count.code,
            label=count.code.label,
            count=count.primary,
            share=count.share,
            share_percent=count.percent,
            listed=count.listed,
        )


class NormalisationOut(BaseModel):
    strict_rejected: int = Field(description="--strict で照合した場合のエラー件数")
    rejected: int = Field(description="正規化して照合したエラー件数")
    avoided_rejections: int = Field(description="--strict ではエラー、正規化では受付可となった件数")
    strict_name: int = Field(description="--strict で 04 を含む件数")
    name: int = Field(description="正規化して 04 を含む件数")
    avoided_name: int
    strict_address: int = Field(description="--strict で 05 を含む件数")
    address: int = Field(description="正規化して 05 を含む件数")
    avoided_address: int


class PeriodOut(BaseModel):
    name: str
    first: dt.date = Field(description="期間の初日（日本時間）")
    last: dt.date = Field(description="期間の末日（日本時間、この日を含む）")
    applications: int = Field(description="廃止取次の件数")
    accepted: int
    rejected: int
    invalid: int
    codes: list[CodeCountOut]
    normalisation: NormalisationOut

    @classmethod
    def of(cls, stats: PeriodStatistics) -> PeriodOut:
        strict = stats.strict
        return cls(
            name=stats.name,
            first=stats.first,
            last=stats.last,
            applications=stats.applications,
            accepted=stats.accepted,
            rejected=stats.rejected,
            invalid=stats.invalid,
            codes=[CodeCountOut.of(c) for c in stats.codes],
            normalisation=NormalisationOut(
                strict_rejected=strict.rejected,
                rejected=stats.rejected,
                avoided_rejections=strict.avoided_rejections,
                strict_name=strict.name_rejections,
                name=stats.listed_name,
                avoided_name=strict.avoided_name,
                strict_address=strict.address_rejections,
                address=stats.listed_address,
                avoided_address=strict.avoided_address,
            ),
        )


class StatisticsResponse(BaseModel):
    first: dt.date
    last: dt.date
    period: Period
    area: Area | None = Field(description="null は全エリア")
    periods: list[PeriodOut]
    total: PeriodOut

    @classmethod
    def of(cls, stats: SwitchingStatistics) -> StatisticsResponse:
        return cls(
            first=stats.range.first,
            last=stats.range.last,
            period=stats.period,
            area=stats.area,
            periods=[PeriodOut.of(p) for p in stats.periods],
            total=PeriodOut.of(stats.total),
        )


class FigureOut(BaseModel):
    label: str
    value: int | float | str


class SignalOut(BaseModel):
    heuristic: Heuristic
    heuristic_label: str
    reason: str
    figures: list[FigureOut]
    retailer_code: str
    staff: str
    period: str
    application_ids: list[str]
    supply_point_ids: list[str] = Field(description="供給地点情報を閲覧できる役割にのみ返します")

    @classmethod
    def of(cls, signal: Signal) -> SignalOut:
        return cls(
            heuristic=signal.heuristic,
            heuristic_label=signal.heuristic.label,
            reason=signal.reason,
            figures=[FigureOut(label=f.label, value=f.value) for f in signal.figures],
            retailer_code=signal.retailer_code,
            staff=signal.staff,
            period=signal.period,
            application_ids=list(signal.application_ids),
            supply_point_ids=list(signal.supply_point_ids),
        )


class FraudSignalsResponse(BaseModel):
    first: dt.date
    last: dt.date
    period: Period
    area: Area | None
    applications: int = Field(description="対象とした廃止取次の件数")
    signals: list[SignalOut]

    @classmethod
    def of(cls, found: FraudSignals) -> FraudSignalsResponse:
        return cls(
            first=found.range.first,
            last=found.range.last,
            period=found.period,
            area=found.area,
            applications=found.applications,
            signals=[SignalOut.of(s) for s in found.signals],
        )


async def _range_request(
    first: FromQuery = None, last: ToQuery = None, period: PeriodQuery = Period.MONTH
) -> ViewRequest:
    """The query of both routes; only the statistics take an area too."""
    return ViewRequest(first.isoformat() if first else "", last.isoformat() if last else "", period.value)


RangeRequest = Annotated[ViewRequest, Depends(_range_request)]


async def _statistics_request(request: RangeRequest, area: AreaQuery = None) -> ViewRequest:
    return replace(request, area=area.value if area else "")


StatisticsRequest = Annotated[ViewRequest, Depends(_statistics_request)]


@router.get(
    "/statistics",
    response_model=StatisticsResponse,
    summary="スイッチング統計（エラーコード別の比率）",
    description=(
        "廃止取次のエラーコード別件数と比率（主エラー基準）、--strict との比較を期間別に返します。"
        "一般送配電事業者のスイッチング処理担当は自社エリアのみ、監視委員会は全エリアの集計を参照できます。"
        "期間は366日以内です。"
    ),
    responses=error_responses(401, 403, 422, 503),
)
async def switching_statistics(
    shadan: ShadanDep, who: CallerDep, context: ContextDep, request: StatisticsRequest
) -> StatisticsResponse:
    stats = await as_principal(shadan, who, lambda p: shadan.switching_stats.statistics(p, request, context))
    return StatisticsResponse.of(stats)


@router.get(
    "/fraud-signals",
    response_model=FraudSignalsResponse,
    summary="不正の兆候（スイッチング）",
    description=(
        "申込件数の突出、取下げ・期限切れの多さ、02・04エラーの集中、光熱費込み賃貸物件の可能性を、"
        "理由と根拠の数値とともに返します。人が確認するための兆候であり、自動的な判定ではありません。"
        "一般送配電事業者のスイッチング処理担当と内部監査のみ、自社エリアのみ参照できます。"
    ),
    responses=error_responses(401, 403, 422, 503),
)
async def fraud_signals(
    shadan: ShadanDep, who: CallerDep, context: ContextDep, request: RangeRequest
) -> FraudSignalsResponse:
    found = await as_principal(shadan, who, lambda p: shadan.switching_fraud.signals(p, request, context))
    return FraudSignalsResponse.of(found)
