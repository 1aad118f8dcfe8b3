"""GET /api/v1/supply-points/{id} and search: the vault's masked records, with a stated purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from shadan.api.deps import CallerDep, ContextDep, ShadanDep, as_principal
from shadan.api.errors import error_responses
from shadan.api.schemas import SEARCH_TERM, SearchResponse, SupplyPointRecord
from shadan.services.vault import SearchField

router = APIRouter(prefix="/supply-points", tags=["供給地点"])

SupplyPointIdPath = Annotated[
    str,
    Path(
        max_length=64,
        description="供給地点特定番号（22桁。ハイフン区切り・全角数字も可）",
        examples=["0600000000000000000001"],
    ),
]


@router.get(
    "/{supply_point_id}",
    response_model=SupplyPointRecord,
    response_model_exclude_none=True,
    summary="供給地点の照会",
    description=(
        "利用目的が必須です。権限のない情報区分の項目は応答に含めず、区分のIDと名称だけを"
        "withheld_categories に示します。存在しない番号と閲覧権限のない番号（他エリア等）は同じ404です。"
    ),
    response_description="閲覧が認められた項目のみ",
    responses=error_responses(401, 403, 404, 422, 503),
)
async def read_supply_point(
    supply_point_id: SupplyPointIdPath,
    shadan: ShadanDep,
    who: CallerDep,
    context: ContextDep,
) -> SupplyPointRecord:
    # Not found and not allowed answer the same 404 (the vault decides), so ids cannot be probed.
    view = await as_principal(shadan, who, lambda p: shadan.vault.read(p, supply_point_id, context))
    return SupplyPointRecord.of(view)


@router.get(
    "",
    response_model=SearchResponse,
    response_model_exclude_none=True,
    summary="供給地点の検索（住所・名義）",
    description=(
        "自エリアの供給地点を部分一致で検索します。検索項目の情報区分を閲覧できない場合は該当なしになります。"
        "検索語はアクセスログに記録されます。"
    ),
    response_description="検索結果（閲覧が認められた項目のみ）",
    responses=error_responses(401, 403, 422, 503),
)
async def search_supply_points(
    shadan: ShadanDep,
    who: CallerDep,
    context: ContextDep,
    field: Annotated[SearchField, Query(description="検索項目")],
    q: Annotated[
        str, Query(min_length=2, max_length=100, pattern=SEARCH_TERM, description="検索語（部分一致）")
    ],
    limit: Annotated[int, Query(ge=1, le=100, description="最大件数")] = 50,
) -> SearchResponse:
    views = await as_principal(shadan, who, lambda p: shadan.vault.search(p, field, q, context, limit))
    return SearchResponse(field=field, count=len(views), results=[SupplyPointRecord.of(v) for v in views])
