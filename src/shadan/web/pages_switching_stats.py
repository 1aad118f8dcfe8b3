"""「スイッチング統計」 and 「不正の兆候」: thin pages over the same service calls as the JSON routes.

The chart is its own request (an <img> on the page, SVG drawn on the server) and the downloads are too;
each is a view of the statistics and so an access event of its own (a download one of action export).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from shadan.api.deps import ContextDep, ShadanDep
from shadan.api.downloads import attachment
from shadan.api.schemas import PRINTABLE
from shadan.domain.errors import InvalidInput
from shadan.domain.vocabulary import Action, Area, CompanyKind
from shadan.services.exports import ExportFormat, export
from shadan.services.switching_fraud_signals import Heuristic, explain
from shadan.services.switching_oversight import ViewRequest
from shadan.services.switching_periods import Period
from shadan.services.switching_stats import SwitchingStatistics, statistics_table
from shadan.web.charts import SVG_MEDIA_TYPE, statistics_svg
from shadan.web.session import PageSession, SessionDep
from shadan.web.templating import render

router = APIRouter(include_in_schema=False)

FilterText = Annotated[str, Query(max_length=20, pattern=PRINTABLE)]
FirstText = Annotated[str, Query(alias="from", max_length=20, pattern=PRINTABLE)]
LastText = Annotated[str, Query(alias="to", max_length=20, pattern=PRINTABLE)]


async def _range_request(first: FirstText = "", last: LastText = "", period: FilterText = "") -> ViewRequest:
    """The range form as typed (both pages); only the statistics take an area too."""
    return ViewRequest(first, last, period)


RangeRequest = Annotated[ViewRequest, Depends(_range_request)]


async def _statistics_request(request: RangeRequest, area: FilterText = "") -> ViewRequest:
    return replace(request, area=area)


StatisticsRequest = Annotated[ViewRequest, Depends(_statistics_request)]


@router.get("/switching/statistics")
def statistics_page(
    shadan: ShadanDep, session: SessionDep, context: ContextDep, request: StatisticsRequest
) -> Response:
    try:
        stats = shadan.switching_stats.statistics(session.principal, request, context)
    except InvalidInput as error:  # refused and logged by the service; the form is shown again
        return _page("switching_stats.html", session, request, 422, error=error.message)
    filters = _filters(stats)
    shown = ViewRequest(filters["from"], filters["to"], filters["period"], request.area)
    return _page("switching_stats.html", session, shown, stats=stats, query=urlencode(filters))


@router.get("/switching/statistics/chart.svg")
def statistics_chart(
    shadan: ShadanDep, session: SessionDep, context: ContextDep, request: StatisticsRequest
) -> Response:
    stats = shadan.switching_stats.statistics(session.principal, request, context)
    return Response(statistics_svg(stats), media_type=SVG_MEDIA_TYPE)


@router.get("/switching/statistics/download")
def statistics_download(
    shadan: ShadanDep,
    session: SessionDep,
    context: ContextDep,
    request: StatisticsRequest,
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.CSV,
) -> Response:
    stats = shadan.switching_stats.statistics(session.principal, request, context, Action.EXPORT)
    name = f"switching-statistics-{stats.range.first.isoformat()}-{stats.range.last.isoformat()}{fmt.suffix}"
    return attachment(export(statistics_table(stats), fmt), name, fmt.media_type)


@router.get("/switching/fraud-signals")
def fraud_signals_page(
    shadan: ShadanDep, session: SessionDep, context: ContextDep, request: RangeRequest
) -> Response:
    try:
        found = shadan.switching_fraud.signals(session.principal, request, context)
    except InvalidInput as error:
        return _page("switching_fraud.html", session, request, 422, error=error.message)
    groups = [(h, explain(h, found.rules), found.of(h)) for h in Heuristic]
    shown = ViewRequest(found.range.first.isoformat(), found.range.last.isoformat(), found.period.value)
    return _page("switching_fraud.html", session, shown, found=found, groups=groups)


def _page(
    template: str, session: PageSession, request: ViewRequest, status: int = 200, **values: object
) -> Response:
    regulator = session.principal.company_kind is CompanyKind.REGULATOR
    return render(
        template,
        status,
        session=session,
        form=request,
        periods=list(Period),
        areas=list(Area) if regulator else [],
        formats=list(ExportFormat),
        **values,
    )


def _filters(stats: SwitchingStatistics) -> dict[str, str]:
    """The query string of the chart and the downloads: the statistics as shown, so all three agree."""
    return {
        "from": stats.range.first.isoformat(),
        "to": stats.range.last.isoformat(),
        "period": stats.period.value,
        "area": stats.area.value if stats.area else "",
    }
