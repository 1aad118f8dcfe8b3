"""Parameter tampering through the API: ids in every shape, purposes, search fields and terms, limits
and headers. Odd but meaningful input is understood; garbage is a clear 4xx, never a 5xx or a leak."""

from __future__ import annotations

import pytest
from world import TestClient, World, bearer

POINT = "0600001111222233334444"
PURPOSE = {"purpose": "託送業務"}


@pytest.fixture
def token(world: World) -> str:
    return world.login("clerk")


@pytest.mark.parametrize(
    "raw",
    [
        "０６００００１１１１２２２２３３３３４４４４",  # full-width digits
        "0600-0011-1122-2233-3344-44",  # hyphen groups
        "0600 0011 1122 2233 3344 44",  # spaces
        "０６００－００１１－１１２２－２２３３－３３４４－４４",  # full-width hyphens
    ],
)
def test_ids_as_people_type_them_are_understood(client: TestClient, token: str, raw: str) -> None:
    response = client.get(f"/api/v1/supply-points/{raw}", params=PURPOSE, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["supply_point_id"] == POINT


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "22桁の数字"),
        ("06000011112222", "22桁の数字"),
        ("06000011112222333344445", "22桁の数字"),
        ("1100001111222233334444", "01〜10"),
        ("0000001111222233334444", "01〜10"),
        ("06000011112222333344４a", "22桁の数字"),
        ("'; DROP TABLE supply_points; --", "22桁の数字"),
        ("%00", "22桁の数字"),
    ],
)
def test_garbage_ids_are_a_clear_422(client: TestClient, token: str, raw: str, message: str) -> None:
    response = client.get(f"/api/v1/supply-points/{raw}", params=PURPOSE, headers=bearer(token))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert message in body["message"]


def test_an_overlong_id_is_refused_before_anything_else(client: TestClient, token: str) -> None:
    response = client.get(f"/api/v1/supply-points/{'0' * 65}", params=PURPOSE, headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["message"] == "供給地点特定番号は64文字以内で入力してください。"


def test_path_traversal_finds_no_route(client: TestClient, token: str) -> None:
    response = client.get(
        "/api/v1/supply-points/..%2F..%2Fetc%2Fpasswd", params=PURPOSE, headers=bearer(token)
    )
    assert response.status_code in (404, 422)
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"purpose": "監査調査"}, 403),  # a purpose of a role the account does not hold
        ({"purpose": "託送業務 "}, 200),  # stray spaces around a valid purpose are trimmed
        ({"purpose": ""}, 403),
        ({"purpose": "託送業務\x00"}, 422),
        ({"purpose": "x" * 65}, 422),
    ],
)
def test_purpose_tampering(client: TestClient, token: str, params: dict[str, str], status: int) -> None:
    response = client.get(f"/api/v1/supply-points/{POINT}", params=params, headers=bearer(token))
    assert response.status_code == status, response.text
    if status != 200:
        assert "山田" not in response.text


def test_an_overlong_terminal_header_is_refused(client: TestClient, token: str) -> None:
    headers = bearer(token) | {"X-Shadan-Terminal": "T" * 129}
    response = client.get(f"/api/v1/supply-points/{POINT}", params=PURPOSE, headers=headers)
    assert response.status_code == 422
    assert "端末ID" in response.json()["message"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"field": "phone", "q": "06-6441"}, "検索項目は次のいずれか"),  # not a searchable field
        ({"field": "contract_no", "q": "KC-7788"}, "検索項目"),
        ({"field": "address", "q": "大"}, "2文字以上"),
        ({"field": "address"}, "検索語は必須"),
        ({"field": "address", "q": "大阪", "limit": "100000"}, "件数は100以下"),
        ({"field": "address", "q": "大阪", "limit": "-1"}, "件数は1以上"),
        ({"field": "address", "q": "大阪", "limit": "ten"}, "整数"),
        ({"field": "address", "q": "大阪\x00"}, "使えない文字"),
    ],
)
def test_search_tampering_is_a_clear_422(
    client: TestClient, token: str, params: dict[str, str], fragment: str
) -> None:
    response = client.get("/api/v1/supply-points", params=PURPOSE | params, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert fragment in response.json()["message"]


def test_search_wildcards_and_quotes_are_literal(client: TestClient, token: str) -> None:
    for q in ("%%", "__", "' OR '1'='1", '" OR 1=1 --'):
        response = client.get(
            "/api/v1/supply-points", params=PURPOSE | {"field": "address", "q": q}, headers=bearer(token)
        )
        assert response.status_code == 200
        assert response.json()["count"] == 0


def test_search_stays_in_the_own_area(client: TestClient, token: str) -> None:
    params = PURPOSE | {"field": "address", "q": "千代田区"}  # the area-03 point
    response = client.get("/api/v1/supply-points", params=params, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert "高橋" not in response.text


def test_search_by_name_finds_for_a_clerk(client: TestClient, token: str) -> None:
    params = PURPOSE | {"field": "name_kanji", "q": "山田"}
    body = client.get("/api/v1/supply-points", params=params, headers=bearer(token)).json()
    assert body["count"] == 1
    assert body["results"][0]["fields"]["name_kanji"] == "山田 太郎"
    assert "transformer_id" not in body["results"][0]["fields"]


def test_an_engineer_cannot_search_by_name_and_sees_no_names(client: TestClient, world: World) -> None:
    token = world.login("engineer")
    purpose = {"purpose": "設備保全"}
    by_name = client.get(
        "/api/v1/supply-points", params=purpose | {"field": "name_kanji", "q": "山田"}, headers=bearer(token)
    )
    assert by_name.status_code == 200
    assert by_name.json()["count"] == 0
    by_address = client.get(
        "/api/v1/supply-points", params=purpose | {"field": "address", "q": "中之島"}, headers=bearer(token)
    )
    body = by_address.json()
    assert body["count"] == 1
    assert body["results"][0]["fields"]["transformer_id"] == "TR-06-4711"
    for leaked in ("山田", "ヤマダ", "KC-7788-0001", "06-6441-8821", "A0601"):
        assert leaked not in by_address.text


@pytest.mark.parametrize("member", ["affiliated", "retail"])
def test_retail_staff_find_nothing(client: TestClient, world: World, member: str) -> None:
    token = world.login(member)
    for purpose, status in (("自社契約確認", 200), ("託送業務", 403)):
        response = client.get(
            "/api/v1/supply-points",
            params={"purpose": purpose, "field": "name_kanji", "q": "山田"},
            headers=bearer(token),
        )
        assert response.status_code == status
        body = response.json()
        assert body.get("count", 0) == 0
        assert "山田 太郎" not in response.text


def test_history_limit_tampering(client: TestClient, token: str) -> None:
    for limit in ("0", "501", "abc"):
        response = client.get("/api/v1/me/access-history", params={"limit": limit}, headers=bearer(token))
        assert response.status_code == 422


def test_unknown_routes_and_methods_are_json_errors(client: TestClient, token: str) -> None:
    missing = client.get("/api/v1/nothing-here", headers=bearer(token))
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong_method = client.put(f"/api/v1/supply-points/{POINT}", headers=bearer(token))
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
