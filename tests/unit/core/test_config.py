from __future__ import annotations

import datetime as dt

import pytest
from pydantic import SecretStr, ValidationError

from shadan.audit.waiting import MAX_WAIT
from shadan.config import Environment, Settings

STRONG = SecretStr("x" * 40)


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="SHADAN_SECRET_KEY"):
        Settings(environment=Environment.PRODUCTION)


@pytest.mark.parametrize(
    "unsafe",
    [{"dev_mfa_bypass": True}, {"bench_disable_policy_and_log": True}, {"secure_cookies": False}],
)
def test_production_refuses_development_switches(unsafe: dict[str, bool]) -> None:
    with pytest.raises(ValidationError):
        Settings(environment=Environment.PRODUCTION, secret_key=STRONG, **unsafe)


@pytest.mark.parametrize("switch", ["dev_mfa_bypass", "bench_disable_policy_and_log"])
def test_the_test_environment_refuses_development_switches(switch: str) -> None:
    with pytest.raises(ValidationError, match="outside development"):
        Settings(environment=Environment.TEST, **{switch: True})


def test_production_with_a_real_secret_is_accepted() -> None:
    settings = Settings(environment=Environment.PRODUCTION, secret_key=STRONG)
    assert settings.password_max_age_days is None
    assert settings.lockout_threshold <= 100


def test_settings_read_shadan_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHADAN_HOME", "/srv/shadan")
    monkeypatch.setenv("SHADAN_RETAIL_OWN_CONTRACTS", "true")
    settings = Settings()
    assert str(settings.home) == "/srv/shadan"
    assert settings.retail_own_contracts is True
    assert settings.resolved_database_url == "sqlite:////srv/shadan/shadan.db"


@pytest.mark.parametrize(
    "half", [{"log_witness_url": "https://witness.example.jp"}, {"log_witness_key": "witness.pub"}]
)
def test_a_witness_needs_both_its_address_and_its_key(half: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(**half)  # type: ignore[arg-type]


def test_the_log_built_without_settings_waits_as_long_as_the_settings_default() -> None:
    """Tests and benchmarks build the log without settings: its maximum wait is the setting's default."""
    default = Settings.model_fields["log_sequencing_max_wait_minutes"].default
    assert dt.timedelta(minutes=default) == MAX_WAIT
