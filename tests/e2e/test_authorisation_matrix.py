"""The authorisation matrix, attacked through the JSON API and through the pages alike:
roles × company kinds × information categories × purposes, allowed and denied.

Every case states what the policy must show; every withheld category's values must be absent from the
whole response body, and a refused read must carry no customer value at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from world import (
    CONTRACT_VALUES,
    LOCATION_VALUES,
    TestClient,
    World,
    bearer,
    page_login,
    values_of,
)

from shadan.domain.registry import SUPPLY_POINT_FIELDS
from shadan.domain.vocabulary import InfoCategory as C
from shadan.services.vault import NOT_FOUND_MESSAGE

WITHHELD = "非表示（権限なし）"


@dataclass(frozen=True)
class Case:
    member: str
    purpose: str | None
    point: str
    status: int
    shown: frozenset[C] = frozenset()

    @property
    def id(self) -> str:
        return f"{self.member}-{self.purpose or 'no-purpose'}-{self.point}-{self.status}"


DEMAND_CLERK = frozenset({C.SUPPLY_POINT, C.LOCATION, C.NEW_POWER_CUSTOMER})
ENGINEER = frozenset({C.SUPPLY_POINT, C.LOCATION, C.EQUIPMENT, C.GRID})

CASES = [
    # T&D wheeling clerk: contracts and customers of its own area, for a wheeling purpose.
    Case("clerk", "託送業務", "demand_affiliated", 200, DEMAND_CLERK),
    Case("clerk", "託送業務", "demand_new", 200, DEMAND_CLERK),
    Case(
        "clerk", "託送業務", "generation", 200, frozenset({C.SUPPLY_POINT, C.LOCATION, C.NEW_POWER_PURCHASE})
    ),
    # The purpose narrows: switching work has no business with purchase contracts.
    Case("clerk", "スイッチング処理", "generation", 200, frozenset({C.SUPPLY_POINT, C.LOCATION})),
    Case("clerk", None, "demand_new", 403),
    Case("clerk", "設備保全", "demand_new", 403),  # another role's purpose
    Case("clerk", "託送業務", "other_area", 404),  # another T&D's area: same answer as "does not exist"
    # Network engineer: equipment and grid, never the contract or the customer's name.
    Case("engineer", "設備保全", "demand_affiliated", 200, ENGINEER),
    Case("engineer", "停電対応", "generation", 200, ENGINEER),
    Case("engineer", "託送業務", "demand_affiliated", 403),
    # System administrator: no customer data at all.
    Case("sysadmin", "運用保守", "demand_affiliated", 404),
    # Area 03's clerk cannot reach into area 06, and can read its own.
    Case("clerk03", "託送業務", "demand_affiliated", 404),
    Case("clerk03", "託送業務", "other_area", 200, DEMAND_CLERK),
    # Retail staff, affiliated or not, see nothing non-public - not even their own customers.
    Case("affiliated", "自社契約確認", "demand_affiliated", 404),
    Case("affiliated", "自社契約確認", "demand_new", 404),
    Case("affiliated", "託送業務", "demand_affiliated", 403),
    Case("affiliated", None, "demand_affiliated", 403),
    Case("retail", "自社契約確認", "demand_new", 404),
    Case("retail", "自社契約確認", "demand_affiliated", 404),
    Case("retail", "託送業務", "demand_new", 403),
]


def _forbidden_values(world: World, case: Case) -> list[str]:
    """Every distinctive value of the record that the case must not reveal."""
    point = world.points[case.point]
    if case.status != 200:
        return values_of(
            point, tuple(n for n in SUPPLY_POINT_FIELDS if n not in ("kind", "voltage", "status"))
        )
    hidden: list[str] = []
    if point.contract_category not in case.shown:
        hidden += values_of(point, CONTRACT_VALUES)
    if C.LOCATION not in case.shown:
        hidden += values_of(point, LOCATION_VALUES)
    if C.EQUIPMENT not in case.shown:
        hidden += values_of(point, ("transformer_id",))
    if C.GRID not in case.shown:
        hidden += values_of(point, ("feeder_id",))
    return hidden


def _expected_withheld(world: World, case: Case) -> set[C]:
    return set(world.points[case.point].categories()) - case.shown


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matrix_through_the_api(client: TestClient, world: World, case: Case) -> None:
    token = world.login(case.member)
    params = {"purpose": case.purpose} if case.purpose else {}
    response = client.get(
        f"/api/v1/supply-points/{world.point_id(case.point)}", params=params, headers=bearer(token)
    )
    assert response.status_code == case.status, response.text
    for value in _forbidden_values(world, case):
        assert value not in response.text, f"{value!r} leaked"
    body = response.json()
    if case.status == 404:
        assert body == {"error": "not_found", "message": NOT_FOUND_MESSAGE}
        return
    if case.status == 403:
        assert body["error"] == "access_denied"
        return
    assert {c["id"] for c in body["shown_categories"]} == set(case.shown)
    assert {c["id"] for c in body["withheld_categories"]} == _expected_withheld(world, case)
    assert all(c["label"] for c in body["withheld_categories"])
    point = world.points[case.point]
    expected_fields = {n for n in SUPPLY_POINT_FIELDS if point.category_of(n) in case.shown}
    assert set(body["fields"]) == expected_fields
    assert body["fields"]["supply_point_id"] == point.supply_point_id


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matrix_through_the_pages(client: TestClient, world: World, case: Case) -> None:
    page_login(client, world, case.member)
    params = {"purpose": case.purpose} if case.purpose else {}
    response = client.get(f"/supply-points/{world.point_id(case.point)}", params=params)
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"].startswith("text/html")
    for value in _forbidden_values(world, case):
        assert value not in response.text, f"{value!r} leaked"
    if case.status == 404:
        assert NOT_FOUND_MESSAGE in response.text
        return
    if case.status != 200:
        return
    withheld = _expected_withheld(world, case)
    # Every category of the record is on the page; each withheld one says so, with nothing of its values.
    for category in world.points[case.point].categories():
        assert category.label in response.text
    assert response.text.count('class="category__withheld" data-category=') == len(withheld)
    for category in withheld:
        assert f'data-category="{category.value}">{WITHHELD}</p>' in response.text


def test_not_found_and_another_area_are_indistinguishable(client: TestClient, world: World) -> None:
    """IDOR: probing ids of another area tells nothing - the answer equals that for an unused id."""
    token = world.login("clerk")
    params = {"purpose": "託送業務"}
    other_area = client.get(
        f"/api/v1/supply-points/{world.point_id('other_area')}", params=params, headers=bearer(token)
    )
    unused_here = client.get(
        "/api/v1/supply-points/0699999999999999999999", params=params, headers=bearer(token)
    )
    unused_there = client.get(
        "/api/v1/supply-points/0399999999999999999999", params=params, headers=bearer(token)
    )
    assert other_area.status_code == unused_here.status_code == unused_there.status_code == 404
    assert other_area.content == unused_here.content == unused_there.content


def test_affiliated_and_new_retailer_get_identical_answers(client: TestClient, world: World) -> None:
    """差別的取扱いの禁止: the affiliated retailer's staff get exactly what any retailer's staff get."""
    answers = {}
    for member in ("affiliated", "retail"):
        token = world.login(member)
        answers[member] = [
            (r.status_code, r.content)
            for purpose in ("自社契約確認", "託送業務", None)
            for point in ("demand_affiliated", "demand_new", "generation")
            for r in [
                client.get(
                    f"/api/v1/supply-points/{world.point_id(point)}",
                    params={"purpose": purpose} if purpose else {},
                    headers=bearer(token),
                )
            ]
        ]
    assert answers["affiliated"] == answers["retail"]
