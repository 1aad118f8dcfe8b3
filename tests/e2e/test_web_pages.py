"""The pages as an attacker probes them: CSRF on every form, session fixation, reuse after logout,
cookie flags, security headers, and no data without a full login. Also: JST times, Japanese labels."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from world import (
    PASSWORD,
    TestClient,
    World,
    bearer,
    build_container,
    csrf_from,
    make_settings,
    page_login,
    plant_cookie,
)

from shadan.web.app import create_app

POINT = "0600001111222233334444"


def _session_cookie(response: Any) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie" and "shadan_session=" in v]
    assert len(cookies) == 1, cookies
    return cookies[0]


def _login_post(client: TestClient, csrf: str, account_id: str = "k.tanaka", password: str = PASSWORD) -> Any:
    return client.post("/login", data={"account_id": account_id, "password": password, "csrf_token": csrf})


# ---- Login and CSRF ---------------------------------------------------------------------------------


def test_login_form_sets_a_signed_double_submit_cookie(client: TestClient, world: World) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    token = csrf_from(page.text)
    cookie = next(v for k, v in page.headers.multi_items() if k == "set-cookie")
    assert cookie.startswith(f"shadan_login_csrf={token};")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie


@pytest.mark.parametrize(
    "tamper",
    ["missing", "wrong", "self_made", "no_cookie"],
)
def test_login_without_a_valid_csrf_token_is_refused(client: TestClient, world: World, tamper: str) -> None:
    page = client.get("/login")
    token = csrf_from(page.text)
    data = {"account_id": "k.tanaka", "password": PASSWORD}
    if tamper == "wrong":
        data["csrf_token"] = token[:-1] + ("0" if token[-1] != "0" else "1")
    elif tamper == "self_made":
        # Double submit of a value the attacker made up (e.g. planted through a sibling host): the
        # signature does not verify.
        plant_cookie(client, "shadan_login_csrf", "attacker.made")
        data["csrf_token"] = "attacker.made"
    elif tamper == "no_cookie":
        client.cookies.clear()
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 403
    assert "shadan_session=" not in response.headers.get("set-cookie", "")
    assert client.get("/").status_code == 303


def test_session_fixation_is_impossible(client: TestClient, world: World) -> None:
    """A session token planted in the browser before login is ended, and never becomes the session."""
    planted = world.login("sysadmin")  # the attacker's own, valid session
    plant_cookie(client, "shadan_session", planted)
    page_login(client, world, "clerk")
    issued = client.cookies.get("shadan_session")
    assert issued
    assert issued != planted
    assert client.get("/api/v1/me", headers=bearer(planted)).status_code == 401
    me = client.get("/api/v1/me", headers=bearer(issued))
    assert me.json()["account_id"] == "k.tanaka"


def test_session_cookie_flags(client: TestClient, world: World) -> None:
    page = client.get("/login")
    response = _login_post(client, csrf_from(page.text), "m.sato")
    assert response.status_code == 303
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie
    assert re.search(r"SameSite=strict", cookie, re.IGNORECASE)
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # this test server is plain HTTP (secure_cookies=False)
    assert "Max-Age" not in cookie
    assert "expires" not in cookie.lower()


def test_secure_cookies_use_the_host_prefix(db_url: str, tmp_path: Path, clock: Any, world: World) -> None:
    settings = make_settings(db_url, tmp_path / "secure").model_copy(update={"secure_cookies": True})
    secure = build_container(settings, clock)
    try:
        with TestClient(
            create_app(world.shadan), base_url="https://testserver", follow_redirects=False
        ) as plain:
            assert "strict-transport-security" not in plain.get("/login").headers
        app = create_app(secure)
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            page = client.get("/login")
            assert page.headers["strict-transport-security"].startswith("max-age=")
            login_cookie = page.headers["set-cookie"]
            assert login_cookie.startswith("__Host-shadan_login_csrf=")
            assert "Secure" in login_cookie
            response = _login_post(client, csrf_from(page.text), "m.sato")
            assert response.status_code == 303
            cookie = response.headers.get_list("set-cookie")
            session = next(c for c in cookie if c.startswith("__Host-shadan_session="))
            assert "Secure" in session
            assert "HttpOnly" in session
            assert "Path=/" in session
            assert "Domain" not in session
            assert client.get("/").status_code == 200
    finally:
        secure.close()


def test_no_user_enumeration_on_the_login_page(client: TestClient, world: World) -> None:
    alerts = []
    for account_id, password in (("nobody.here", PASSWORD), ("k.tanaka", "wrong-" + PASSWORD)):
        page = client.get("/login")
        response = _login_post(client, csrf_from(page.text), account_id, password)
        assert response.status_code == 401
        alerts.append(re.search(r'role="alert">([^<]+)<', response.text).group(1))  # type: ignore[union-attr]
    assert alerts[0] == alerts[1]


def test_an_empty_login_form_says_what_is_missing(client: TestClient, world: World) -> None:
    page = client.get("/login")
    response = _login_post(client, csrf_from(page.text), "", "")
    assert response.status_code == 422
    assert "アカウントIDとパスワードを入力してください" in response.text


def test_mfa_form_requires_csrf_and_the_right_code(client: TestClient, world: World) -> None:
    page = client.get("/login")
    assert _login_post(client, csrf_from(page.text)).headers["location"] == "/login/mfa"
    assert client.get("/").status_code == 303  # password alone opens nothing
    mfa = client.get("/login/mfa")
    csrf = csrf_from(mfa.text)
    no_csrf = client.post("/login/mfa", data={"code": world.totp("clerk")})
    assert no_csrf.status_code == 403
    wrong = client.post("/login/mfa", data={"code": "123456", "csrf_token": csrf})
    assert wrong.status_code == 401
    assert "確認コードが正しくない" in wrong.text
    badly_formed = client.post("/login/mfa", data={"code": "12ab", "csrf_token": csrf})
    assert badly_formed.status_code == 422
    ok = client.post("/login/mfa", data={"code": world.totp("clerk"), "csrf_token": csrf})
    assert ok.status_code == 303
    assert client.get("/").status_code == 200


def test_mfa_page_without_a_session_goes_to_login(client: TestClient, world: World) -> None:
    assert client.get("/login/mfa").headers["location"] == "/login"
    assert client.post("/login/mfa", data={"code": "123456"}).headers["location"] == "/login"


# ---- Logout -----------------------------------------------------------------------------------------


def test_logout_requires_csrf_and_ends_the_session(client: TestClient, world: World) -> None:
    page_login(client, world, "clerk")
    token = client.cookies.get("shadan_session")
    assert token
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": "0" * 64}).status_code == 403
    other = world.login("engineer")
    other_csrf = world.shadan.auth.csrf_token(other)
    assert client.post("/logout", data={"csrf_token": other_csrf}).status_code == 403
    assert client.get("/").status_code == 200  # still logged in after the forged attempts

    csrf = csrf_from(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    deleted = _session_cookie(response)
    assert "Max-Age=0" in deleted or 'shadan_session=""' in deleted

    # Replaying the old cookie, or using it as a bearer token, gets nothing.
    plant_cookie(client, "shadan_session", token)
    replay = client.get(f"/supply-points/{POINT}", params={"purpose": "託送業務"})
    assert replay.status_code == 303
    assert replay.headers["location"] == "/login"
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_transfer_ends_the_page_session(client: TestClient, world: World) -> None:
    page_login(client, world, "transferee")
    url = f"/supply-points/{POINT}"
    assert client.get(url, params={"purpose": "託送業務"}).status_code == 200
    world.transfer("transferee", "aff06", "営業本部")
    after = client.get(url, params={"purpose": "託送業務"})
    assert after.status_code == 303
    assert "山田" not in after.text


# ---- No data without a full login; bearer is not a page credential ---------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/supply-points/{POINT}?purpose=託送業務",
        "/search?field=address&q=大阪&purpose=託送業務",
        "/me/history",
    ],
)
def test_pages_need_a_login(client: TestClient, world: World, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    token = world.login("clerk")
    with_bearer = client.get(path, headers=bearer(token))
    assert with_bearer.status_code == 303
    assert "山田" not in with_bearer.text


# ---- Headers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/",
        f"/supply-points/{POINT}?purpose=託送業務",
        f"/supply-points/{POINT}?purpose=監査",
        "/search?field=address&q=中之島&purpose=託送業務",
        "/me/history",
        "/docs",
        "/openapi.json",
        "/no-such-page",
        f"/api/v1/supply-points/{POINT}?purpose=託送業務",
        "/api/v1/me",
        "/static/shadan.css",
    ],
)
def test_security_headers_on_every_response(client: TestClient, world: World, path: str) -> None:
    page_login(client, world, "clerk")
    response = client.get(path)
    headers = response.headers
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    expected_cache = "no-cache" if path.startswith("/static/") else "no-store"
    assert headers["cache-control"] == expected_cache
    assert "server" not in headers or "uvicorn" not in headers["server"]
    if headers["content-type"].startswith("text/html"):
        assert "<script" not in response.text  # CSP forbids inline script; the pages need none
        assert "style=" not in response.text
        assert "http://" not in response.text
        assert "https://" not in response.text


# ---- Pages: purposes, record, search, history in JST -------------------------------------------------


def test_home_offers_the_purposes_of_the_role(client: TestClient, world: World) -> None:
    page_login(client, world, "clerk")
    home = client.get("/").text
    assert "供給地点特定番号" in home
    for purpose in ("託送業務", "問合せ対応", "スイッチング処理"):
        assert f'<option value="{purpose}">' in home
    assert "設備保全" not in home
    assert "k.tanaka" in home


def test_home_of_a_retail_employee_offers_no_td_purpose(client: TestClient, world: World) -> None:
    page_login(client, world, "retail")
    home = client.get("/").text
    # 自社契約確認 needs the own-contracts setting (off here): a purpose always refused is not offered.
    for purpose in ("託送業務", "問合せ対応", "設備保全", "自社契約確認"):
        assert purpose not in home


def test_lookup_form_redirects_to_the_record_page(client: TestClient, world: World) -> None:
    page_login(client, world, "clerk")
    response = client.get(
        "/supply-points", params={"supply_point_id": "0600-0011-1122-2233-3344-44", "purpose": "託送業務"}
    )
    assert response.status_code == 303
    record = client.get(response.headers["location"])
    assert record.status_code == 200
    assert "0600 0011 1122 2233 3344 44" in record.text
    assert "山田 太郎" in record.text


def test_record_page_of_an_engineer_withholds_contract_and_names(client: TestClient, world: World) -> None:
    page_login(client, world, "engineer")
    page = client.get(f"/supply-points/{POINT}", params={"purpose": "設備保全"}).text
    assert "新電力顧客情報" in page
    assert "非表示（権限なし）" in page
    assert "TR-06-4711" in page
    for secret in ("山田", "ヤマダ", "KC-7788-0001", "06-6441-8821", "A0601", "契約番号"):
        assert secret not in page


def test_search_page_marks_withheld_cells(client: TestClient, world: World) -> None:
    page_login(client, world, "engineer")
    page = client.get("/search", params={"field": "address", "q": "中之島", "purpose": "設備保全"})
    assert page.status_code == 200
    assert "大阪府大阪市北区中之島三丁目6番16号" in page.text
    assert "非表示（権限なし）" in page.text
    assert "山田" not in page.text


def test_bad_input_on_pages_is_a_japanese_message(client: TestClient, world: World) -> None:
    page_login(client, world, "clerk")
    bad_id = client.get("/supply-points/12345", params={"purpose": "託送業務"})
    assert bad_id.status_code == 422
    assert "22桁の数字" in bad_id.text
    bad_field = client.get("/search", params={"field": "phone", "q": "0664", "purpose": "託送業務"})
    assert bad_field.status_code == 422
    assert "検索項目" in bad_field.text
    no_purpose = client.get(f"/supply-points/{POINT}")
    assert no_purpose.status_code == 403
    assert "利用目的" in no_purpose.text
    assert "山田" not in no_purpose.text


def test_history_is_shown_in_japan_time(client: TestClient, world: World, clock: Any) -> None:
    # 15:30 UTC is 00:30 of the next day in Japan: the date must roll over on the page.
    clock.now = clock.now.replace(hour=15, minute=30, second=5)
    page_login(client, world, "clerk")
    client.get(f"/supply-points/{POINT}", params={"purpose": "託送業務"})
    page = client.get("/me/history").text
    jst = (clock.now + dt.timedelta(hours=9)).strftime("%Y/%m/%d %H:%M")
    utc = clock.now.strftime("%Y/%m/%d %H:%M")
    assert jst in page
    assert utc not in page
    assert "照会" in page
    assert "許可" in page
    assert "託送業務" in page
    assert "0600 0011 1122 2233 3344 44" in page
    assert "ログイン（確認コード）" in page


def test_api_reference_is_served_without_a_cdn(client: TestClient, world: World) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    for path in ("/api/v1/session", "/api/v1/supply-points/{supply_point_id}", "/api/v1/me/access-history"):
        assert path in page.text
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {
        "/api/v1/session",
        "/api/v1/session/mfa",
        "/api/v1/me",
        "/api/v1/me/access-history",
        "/api/v1/supply-points/{supply_point_id}",
        "/api/v1/supply-points",
        "/api/v1/switching/statistics",
        "/api/v1/switching/fraud-signals",
        "/api/v1/switching/submissions",
        "/api/v1/switching/starts",
        "/api/v1/switching/submissions/{submission_id}",
        "/api/v1/switching/submissions/{submission_id}/results",
        "/api/v1/switching/supply-points/{supply_point_id}",
        "/api/v1/audit/status",
        "/api/v1/audit/events",
        "/api/v1/audit/events/export",
        "/api/v1/audit/events/{seq}/proof",
    }


def test_an_unexpected_error_is_a_bare_500_with_the_headers(
    shadan: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug must not leak a traceback or data: a generic body, still with the security headers."""

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("secret detail 山田")

    monkeypatch.setattr(shadan.vault, "read", broken)
    token = world.login("clerk")
    with TestClient(create_app(shadan), raise_server_exceptions=False, follow_redirects=False) as client:
        params = {"purpose": "託送業務"}
        api = client.get(f"/api/v1/supply-points/{POINT}", params=params, headers=bearer(token))
        assert api.status_code == 500
        assert api.json()["error"] == "internal_error"
        plant_cookie(client, "shadan_session", token)
        page = client.get(f"/supply-points/{POINT}", params=params)
        assert page.status_code == 500
    for response in (api, page):
        assert "secret detail" not in response.text
        assert "山田" not in response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
