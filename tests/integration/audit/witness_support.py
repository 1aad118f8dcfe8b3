"""The log's side of witnessing in tests: a real witness's HTTP app reached in process, and the cosigning
service wired to one witness or several, as bootstrap wires it."""

from __future__ import annotations

from collections.abc import Mapping

from audit_support import Clock
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shadan.audit.cosignatures import SqlCosignatureLedger, WitnessCosignatureChecks
from shadan.services.audit_log import AuditLogService
from shadan.services.cosigning import (
    WITNESS_PATIENCE_SECONDS,
    CosigningService,
    WitnessClient,
    WitnessReply,
)
from shadan.services.identity import Actor
from shadan.services.witness import WitnessService
from shadan.web.witness_app import create_witness_app

OPERATOR = Actor.operator("auditor", terminal_id="AUD-01")
URL = "http://witness.test"


class AppClient:
    """The witness's real HTTP app, reached in process (the port's contract: status, type, body)."""

    def __init__(self, witness: WitnessService) -> None:
        self._client = TestClient(create_witness_app(witness))
        self.bodies: list[bytes] = []

    def add_checkpoint(self, body: bytes) -> WitnessReply:
        self.bodies.append(body)
        response = self._client.post("/add-checkpoint", content=body)
        content_type = response.headers.get("content-type", "").split(";")[0]
        return WitnessReply(response.status_code, content_type, response.content)


def cosigning(
    engine: Engine,
    service: AuditLogService,
    clock: Clock,
    client: WitnessClient | Mapping[str, WitnessClient],
    patience_seconds: float = WITNESS_PATIENCE_SECONDS,
) -> CosigningService:
    """One client at URL, or a client for each URL; any other URL fails the test."""
    clients = client if isinstance(client, Mapping) else {URL: client}
    ledger, checks = SqlCosignatureLedger(engine), WitnessCosignatureChecks()
    connect = clients.__getitem__
    return CosigningService(service, ledger, checks, connect, clock, "shadan", patience_seconds)
