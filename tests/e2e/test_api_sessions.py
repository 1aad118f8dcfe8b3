"""Sessions through the JSON API: login with TOTP, logout, reuse after logout and after a transfer, no
user enumeration, bearer only (the page cookie is not a credential for the API)."""

from __future__ import annotations

from world import PASSWORD, TestClient, World, bearer

LOGIN = "/api/v1/session"
MFA = "/api/v1/session/mfa"
ME = "/api/v1/me"


def _login(client: TestClient, account_id: str, password: str = PASSWORD) -> tuple[int, dict[str, object]]:
    response = client.post(LOGIN, json={"account_id": account_id, "password": password})
    return response.status_code, response.json()


def test_login_without_second_factor_gives_a_working_token(client: TestClient, world: World) -> None:
    status, body = _login(client, world.member("sysadmin").account_id)
    assert status == 201
    assert body["mfa_required"] is False
    me = client.get(ME, headers=bearer(str(body["session_token"])))
    assert me.status_code == 200
    assert me.json()["account_id"] == "m.sato"
    assert me.json()["purposes"] == ["運用保守"]


def test_token_is_useless_until_the_totp_code_is_given(client: TestClient, world: World) -> None:
    status, body = _login(client, world.member("clerk").account_id)
    assert status == 201
    assert body["mfa_required"] is True
    token = str(body["session_token"])
    assert client.get(ME, headers=bearer(token)).status_code == 401

    wrong = client.post(MFA, json={"code": "000000"}, headers=bearer(token))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "authentication_failed"

    # Full-width digits from a Japanese IME are accepted.
    code = world.totp("clerk").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert client.post(MFA, json={"code": code}, headers=bearer(token)).status_code == 204
    me = client.get(ME, headers=bearer(token)).json()
    assert me["company_kind"] == "td"
    assert me["area"] == "06"
    assert set(me["purposes"]) == {"託送業務", "問合せ対応", "スイッチング処理"}


def test_a_totp_code_is_good_only_once(client: TestClient, world: World) -> None:
    first = str(_login(client, "k.tanaka")[1]["session_token"])
    code = world.totp("clerk")
    assert client.post(MFA, json={"code": code}, headers=bearer(first)).status_code == 204
    second = str(_login(client, "k.tanaka")[1]["session_token"])
    assert client.post(MFA, json={"code": code}, headers=bearer(second)).status_code == 401


def test_every_login_issues_a_fresh_token(client: TestClient, world: World) -> None:
    tokens = {str(_login(client, "m.sato")[1]["session_token"]) for _ in range(3)}
    assert len(tokens) == 3


def test_no_user_enumeration(client: TestClient, world: World) -> None:
    """Unknown id, wrong password and an id in another letter case or width answer exactly alike."""
    unknown = client.post(LOGIN, json={"account_id": "no.such.person", "password": PASSWORD})
    wrong = client.post(LOGIN, json={"account_id": "k.tanaka", "password": PASSWORD + "x"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.json()["error"] == "authentication_failed"
    assert "k.tanaka" not in wrong.text
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"] == "Bearer"


def test_logout_ends_the_token(client: TestClient, world: World) -> None:
    token = world.login("clerk")
    assert client.get(ME, headers=bearer(token)).status_code == 200
    assert client.delete(LOGIN, headers=bearer(token)).status_code == 204
    assert client.get(ME, headers=bearer(token)).status_code == 401
    read = client.get(
        f"/api/v1/supply-points/{world.point_id('demand_new')}",
        params={"purpose": "託送業務"},
        headers=bearer(token),
    )
    assert read.status_code == 401
    assert "鈴木" not in read.text
    # Logging out twice is harmless.
    assert client.delete(LOGIN, headers=bearer(token)).status_code == 204


def test_transfer_ends_live_sessions_and_rights(client: TestClient, world: World) -> None:
    """人事異動 to the affiliated retailer: the old token dies at once, a new login reads nothing."""
    token = world.login("transferee")
    point = world.point_id("demand_affiliated")
    url = f"/api/v1/supply-points/{point}"
    assert client.get(url, params={"purpose": "託送業務"}, headers=bearer(token)).status_code == 200

    world.transfer("transferee", "aff06", "営業本部")

    after = client.get(url, params={"purpose": "託送業務"}, headers=bearer(token))
    assert after.status_code == 401
    assert "山田" not in after.text
    status, body = _login(client, "s.watanabe")
    assert status == 201
    # The td role does not fit a retail employer, so it counts for nothing (and no TOTP is asked).
    assert body["mfa_required"] is False
    new_token = str(body["session_token"])
    me = client.get(ME, headers=bearer(new_token)).json()
    assert me["company_kind"] == "affiliated_retail"
    assert me["roles"] == []
    assert me["purposes"] == []
    denied = client.get(url, params={"purpose": "託送業務"}, headers=bearer(new_token))
    assert denied.status_code == 403
    assert "山田" not in denied.text


def test_the_page_cookie_is_not_an_api_credential(client: TestClient, world: World) -> None:
    token = world.login("clerk")
    client.cookies.set("shadan_session", token)
    response = client.get(ME)
    assert response.status_code == 401
    client.cookies.clear()


def test_malformed_authorization_headers_are_401_never_5xx(client: TestClient, world: World) -> None:
    for value in (
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "bearer nope",
        "Bearer " + "x" * 5000,
        "Token a",
    ):
        response = client.get(ME, headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.json()["error"] == "authentication_failed"


def test_login_body_validation_is_a_clear_422_or_400(client: TestClient, world: World) -> None:
    missing = client.post(LOGIN, json={"account_id": "k.tanaka"})
    assert missing.status_code == 422
    assert missing.json() == {"error": "invalid_input", "message": "パスワードは必須です。"}

    extra = client.post(LOGIN, json={"account_id": "k.tanaka", "password": "x", "role": "sysadmin"})
    assert extra.status_code == 422

    nul = client.post(LOGIN, json={"account_id": "k.tanaka\x00", "password": "x"})
    assert nul.status_code == 422
    assert "使えない文字" in nul.json()["message"]

    broken = client.post(LOGIN, content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["error"] == "malformed_request"

    form = client.post(LOGIN, data={"account_id": "k.tanaka", "password": PASSWORD})
    assert form.status_code == 422  # a cross-site form cannot log anyone in through the API
