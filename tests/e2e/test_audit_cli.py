"""`shadan audit` end to end: real requests leave events, the CLI writes a checkpoint, a proof file and
the public key, `verify-proof` accepts the file with nothing but the key (no database, no settings), an
independent verifier written from the specs accepts it too, and `verify` names tampering with its
documented exit code."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result
from world import TestClient, World, bearer

from shadan.audit.cosignature import Cosigner
from shadan.audit.note import Signer
from shadan.cli.main import app

POINT = "0600001111222233334444"
INDEPENDENT = Path(__file__).resolve().parents[1] / "integration" / "audit" / "independent_verifier.py"


def independent_verifier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("independent_verifier", INDEPENDENT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cli(db_url: str, tmp_path: Path, shadan: Any) -> Any:
    env = {
        "SHADAN_HOME": str(tmp_path / "home"),
        "SHADAN_DATABASE_URL": db_url,
        "SHADAN_ENVIRONMENT": "test",
    }

    def run(*args: str, environment: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, ["audit", *args], env=environment or env)

    return run


def _read_a_point(client: TestClient, world: World) -> None:
    token = world.login("clerk")
    response = client.get(
        f"/api/v1/supply-points/{POINT}", params={"purpose": "託送業務"}, headers=bearer(token)
    )
    assert response.status_code == 200


def _last_seq(owner_url: str) -> int:
    engine = create_engine(owner_url)
    with engine.connect() as connection:
        seq = int(connection.execute(text("SELECT max(seq) FROM access_events")).scalar_one())
    engine.dispose()
    return seq


def test_proof_round_trip(cli: Any, client: TestClient, world: World, owner_url: str, tmp_path: Path) -> None:
    _read_a_point(client, world)
    seq = _last_seq(owner_url)
    proof, key = tmp_path / "event.tlog-proof", tmp_path / "log.pub"

    written = cli("proof", str(seq), "-o", str(proof))
    assert written.exit_code == 0, written.output
    assert cli("public-key", "-o", str(key)).exit_code == 0
    assert proof.read_text().startswith("c2sp.org/tlog-proof@v1\nextra ")

    # Nothing but the file and the key: a production environment without its secret would refuse to
    # start, and the database URL leads nowhere.
    offline = {
        "SHADAN_ENVIRONMENT": "production",
        "SHADAN_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
    }
    checked = cli("verify-proof", str(proof), "--key", str(key), environment=offline)
    assert checked.exit_code == 0, checked.output
    assert "proof verified" in checked.output
    assert POINT in checked.output
    assert f'"seq": {seq}' in checked.output

    entry = independent_verifier().verify(proof.read_text(), key.read_text())
    assert POINT.encode() in entry


def test_verify_proof_refusals_have_their_exit_codes(
    cli: Any, client: TestClient, world: World, owner_url: str, tmp_path: Path
) -> None:
    _read_a_point(client, world)
    proof, key = tmp_path / "event.tlog-proof", tmp_path / "log.pub"
    cli("proof", str(_last_seq(owner_url)), "-o", str(proof))
    cli("public-key", "-o", str(key))
    lines = proof.read_text().split("\n")

    moved = tmp_path / "moved.tlog-proof"
    moved.write_text(proof.read_text().replace(lines[2], f"index {int(lines[2][6:]) + 1}"))
    assert cli("verify-proof", str(moved), "--key", str(key)).exit_code == 32

    other_key = tmp_path / "other.pub"
    other_key.write_text(key.read_text().replace(key.read_text().split("+")[1], "00000000"))
    assert cli("verify-proof", str(proof), "--key", str(other_key)).exit_code == 33
    # A quorum of witnesses with no witness key given cannot be met; a quorum of none is a usage error.
    assert cli("verify-proof", str(proof), "--key", str(key), "--witness-quorum", "1").exit_code == 33
    assert cli("verify-proof", str(proof), "--key", str(key), "--witness-quorum", "0").exit_code == 2

    stranger = tmp_path / "stranger.pub"
    cli_other = CliRunner().invoke(
        app,
        ["audit", "public-key", "-o", str(stranger)],
        env={
            "SHADAN_HOME": str(tmp_path / "other-home"),
            "SHADAN_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
            "SHADAN_ENVIRONMENT": "test",
        },
    )
    assert cli_other.exit_code == 0, cli_other.output
    assert cli("verify-proof", str(proof), "--key", str(stranger)).exit_code == 31

    garbage = tmp_path / "garbage.tlog-proof"
    garbage.write_text("hello\n")
    rejected = cli("verify-proof", str(garbage), "--key", str(key))
    assert rejected.exit_code == 30
    assert "proof rejected" in rejected.output


def test_checkpoint_export_and_verify_detect_an_edit(
    cli: Any, client: TestClient, world: World, owner_url: str, tmp_path: Path
) -> None:
    _read_a_point(client, world)
    exported = tmp_path / "checkpoint.txt"
    made = cli("checkpoint", "--export", str(exported))
    assert made.exit_code == 0, made.output
    assert exported.read_text().split("\n")[1] == str(_last_seq(owner_url))

    passed = cli("verify", "--trusted", str(exported))
    assert passed.exit_code == 0, passed.output
    assert "verification passed" in passed.output

    engine = create_engine(owner_url)
    with engine.begin() as connection:
        connection.execute(  # the purpose of event 2, prefixed: still well-formed JSON
            text(
                "UPDATE access_log_entries SET entry ="
                ' replace(entry, \'"purpose":"\', \'"purpose":"営業\') WHERE seq = 2'
            )
        )
    engine.dispose()
    failed = cli("verify", "--trusted", str(exported))
    assert failed.exit_code == 10, failed.output
    assert "first bad sequence number: 2" in failed.output
    assert "イベントが改ざんされています" in failed.output
    assert "an event was changed" in failed.output


def test_an_unknown_event_has_no_proof(cli: Any, tmp_path: Path) -> None:
    missing = cli("proof", "999", "-o", str(tmp_path / "x.tlog-proof"))
    assert missing.exit_code == 1
    assert "999" in missing.output


def test_the_periodic_job_checks_its_witness_key_and_outlives_an_absent_witness(
    db_url: str, shadan: Any, client: TestClient, world: World, tmp_path: Path
) -> None:
    key_file = tmp_path / "witness.pub"
    env = {
        "SHADAN_HOME": str(tmp_path / "home"),
        "SHADAN_DATABASE_URL": db_url,
        "SHADAN_ENVIRONMENT": "test",
        "SHADAN_LOG_WITNESS_URL": "http://127.0.0.1:9",  # nobody listens there
        "SHADAN_LOG_WITNESS_KEY": str(key_file),
    }

    def run_once() -> Result:
        return CliRunner().invoke(app, ["audit", "run", "--once"], env=env)

    missing = run_once()
    assert missing.exit_code == 1
    assert "証人の検証鍵ファイル（SHADAN_LOG_WITNESS_KEY）を読めません" in missing.output

    key_file.write_text(Signer.generate("witness.example.jp/egc").verifier.text() + "\n", encoding="utf-8")
    assert run_once().exit_code == 1  # a log key (0x01) is no witness key (0x04)

    key_file.write_text(Cosigner.generate("witness.example.jp/egc").verifier.text() + "\n", encoding="utf-8")
    not_http = CliRunner().invoke(
        app, ["audit", "run", "--once"], env=env | {"SHADAN_LOG_WITNESS_URL": "file:///x"}
    )
    assert not_http.exit_code == 1
    assert "証人の URL は http:// か https://" in not_http.output
    _read_a_point(client, world)
    absent = run_once()
    assert absent.exit_code == 0, absent.output
    assert "チェックポイント / checkpoint" in absent.output  # the log's own work was done all the same


def test_the_periodic_job_asks_every_listed_witness_and_refuses_a_bad_list(
    db_url: str,
    shadan: Any,
    client: TestClient,
    world: World,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    listed = tmp_path / "witnesses.txt"
    egc, audit = (
        Cosigner.generate(name).verifier.text() for name in ("egc.example.jp/w", "audit.example.jp/w")
    )
    env = {
        "SHADAN_HOME": str(tmp_path / "home"),
        "SHADAN_DATABASE_URL": db_url,
        "SHADAN_ENVIRONMENT": "test",
        "SHADAN_LOG_WITNESSES": str(listed),
        "SHADAN_LOG_WITNESS_QUORUM": "2",
    }

    def run_once() -> Result:
        return CliRunner().invoke(app, ["audit", "run", "--once"], env=env)

    listed.write_text(f"{egc} http://127.0.0.1:9\n{audit} ftp://127.0.0.1:9\n", encoding="utf-8")
    bad = run_once()
    assert bad.exit_code == 1
    assert "証人の一覧 2 行目" in bad.output

    listed.write_text(
        f"# two witnesses, nobody listening\n{egc} http://egc:token-secret@127.0.0.1:9\n{audit} http://127.0.0.1:9/\n"
    )
    _read_a_point(client, world)
    absent = run_once()
    assert absent.exit_code == 0, absent.output
    assert "チェックポイント / checkpoint" in absent.output
    for name in ("egc.example.jp/w", "audit.example.jp/w"):
        assert f"witness submission failed: {name}: 証人 http://127.0.0.1:9/add-checkpoint" in caplog.text
    assert "token-secret" not in caplog.text + absent.output


def test_verify_proof_checks_several_files_together(
    cli: Any, client: TestClient, world: World, owner_url: str, tmp_path: Path
) -> None:
    _read_a_point(client, world)
    first, second, key = tmp_path / "first.tlog-proof", tmp_path / "second.tlog-proof", tmp_path / "log.pub"
    cli("proof", str(_last_seq(owner_url)), "-o", str(first))
    _read_a_point(client, world)
    cli("proof", str(_last_seq(owner_url)), "-o", str(second))
    cli("public-key", "-o", str(key))
    both = cli("verify-proof", str(first), str(second), "--key", str(key))
    assert both.exit_code == 0, both.output
    assert "2 verified, 0 rejected" in both.output
    assert "split view" not in both.output

    index_line = first.read_text().split("\n")[2]
    moved = tmp_path / "moved.tlog-proof"
    moved.write_text(first.read_text().replace(index_line, f"index {int(index_line[6:]) + 1}"))
    mixed = cli("verify-proof", str(first), str(moved), str(second), "--key", str(key))
    assert mixed.exit_code == 32, mixed.output  # the moved file's own code
    assert "2 verified, 1 rejected" in mixed.output
    assert "moved.tlog-proof" in mixed.output
