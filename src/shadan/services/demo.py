"""`shadan demo`, the main job: build a synthetic operator, issue demo logins, play the scenario, then
verify the access log and write a proof of one of the scenario's denied reads.

Everything goes through the services a user's requests go through (registry import, HR master, account
administration, login, TOTP, the vault, transfers, the tamper-evident log), so the demo shows the
firewall as it is, not a mock. The files and the demo state live in SHADAN_HOME/demo/.

Switching applications (廃止取次, 開始申込, 取下げ) go through the services `shadan switching submit`,
`start` and `withdraw` use, once per database (`switching.json`): a file is taken only once, so a second
run keeps what the first one stored.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shadan.domain.japan_time import local_day
from shadan.domain.switching import ResultKind
from shadan.domain.switching_case import CaseState
from shadan.services.audit_log import ProofChecker
from shadan.services.demo_log import DemoAuditLog, LogShowcase, show_the_log
from shadan.services.demo_logins import AccountAdmin, DemoLogin, issue_logins
from shadan.services.demo_scenario import Scenario, ScenarioReport, ScenarioServices
from shadan.services.demo_world import (
    HrMasterLoader,
    RegistryImporter,
    StageProgress,
    WorldOptions,
    WorldReport,
    build_world,
)
from shadan.services.identity import Actor
from shadan.services.switching_cases import SwitchingCaseService
from shadan.services.switching_events import SwitchingActor
from shadan.services.synthetic.applications import demo_applications
from shadan.services.synthetic.defaults import DEFAULT_SEED, DEFAULT_SIZE

DEMO_DIRECTORY = "demo"
TOTP_STEPS_FILE = "totp_steps.json"
SWITCHING_FILE = "switching.json"
CANCELLATIONS_FILE = "switching_cancellations.csv"
STARTS_FILE = "switching_starts.csv"
WITHDRAWAL_REASON = "顧客都合による取下げ（デモ）"


class DemoServices(ScenarioServices, Protocol):
    """The container as the demo sees it (bootstrap's `Shadan` fits structurally)."""

    @property
    def registry_import(self) -> RegistryImporter: ...

    @property
    def hr_master(self) -> HrMasterLoader: ...

    @property
    def accounts(self) -> AccountAdmin: ...

    @property
    def switching_cases(self) -> SwitchingCaseService: ...


@dataclass(frozen=True, slots=True)
class DemoOptions:
    home: Path  # SHADAN_HOME; the demo works in its `demo` subdirectory
    database: str  # the database URL without password, to tell one database's demo state from another's
    size: int = DEFAULT_SIZE
    seed: int = DEFAULT_SEED

    @property
    def directory(self) -> Path:
        return self.home / DEMO_DIRECTORY


@dataclass(frozen=True, slots=True)
class SwitchingShowcase:
    """What the demo stored of switching work; `submitted` False: an earlier run stored it."""

    submitted: bool
    cancellations: int = 0
    accepted: int = 0
    rejected: int = 0
    matched: int = 0
    withdrawn: int = 0


@dataclass(frozen=True, slots=True)
class DemoSummary:
    world: WorldReport
    logins: tuple[DemoLogin, ...]
    scenario: ScenarioReport
    switching: SwitchingShowcase
    log: LogShowcase
    seconds: float


@dataclass(frozen=True, slots=True)
class DemoLogTools:
    """The tamper-evident log and the auditor's stand-alone proof checker (bootstrap builds both)."""

    log: DemoAuditLog
    checker: ProofChecker


def run_demo(
    services: DemoServices,
    tools: DemoLogTools,
    options: DemoOptions,
    actor: Actor,
    progress: StageProgress,
    sleep: Callable[[float], None] = time.sleep,
) -> DemoSummary:
    started = time.perf_counter()
    since = services.clock()
    today = local_day(since)
    world_options = WorldOptions(options.directory, options.size, options.seed, today, options.database)
    world = build_world(services, world_options, actor, progress)
    logins = issue_logins(world.operator, services.accounts, options.directory, actor)
    scenario = Scenario(services, logins, sleep, _read_steps(options.directory))
    report = scenario.run(world.operator, since)
    _write_steps(options.directory, scenario.used_steps)
    switching = _submit_switching(services.switching_cases, world, options, actor, since)
    log = show_the_log(tools.log, tools.checker, report.events, options.directory, actor.account_id)
    return DemoSummary(world, logins, report, switching, log, time.perf_counter() - started)


def _submit_switching(
    cases: SwitchingCaseService, world: WorldReport, options: DemoOptions, actor: Actor, now: dt.datetime
) -> SwitchingShowcase:
    """廃止取次, then 開始申込 for part of the accepted ones, then withdrawals, as the operator."""
    marker = options.directory / SWITCHING_FILE
    fresh_database = all(f.imported for f in world.files)
    if not fresh_database and _switching_database(marker) == options.database:
        return SwitchingShowcase(submitted=False)
    files = demo_applications(world.operator, now)
    if not files.cancellation_count:  # a world too small to apply for anything
        return SwitchingShowcase(submitted=False)
    (options.directory / CANCELLATIONS_FILE).write_bytes(files.cancellations)
    (options.directory / STARTS_FILE).write_bytes(files.starts)
    switching_actor = SwitchingActor(actor.account_id, terminal_id=actor.terminal_id)
    submitted = cases.submit(files.cancellations, switching_actor, source_name=CANCELLATIONS_FILE)
    matched = 0
    if files.start_count:
        matched = cases.start(files.starts, switching_actor, source_name=STARTS_FILE).matched
    pending = {r.record.application_id for r in submitted.rows if r.record.state is CaseState.PENDING}
    withdrawals = [(a, retailer) for a, retailer in files.withdrawals if a in pending]
    for application_id, retailer in withdrawals:
        cases.withdraw(application_id, retailer, WITHDRAWAL_REASON, switching_actor)
    marker.write_text(json.dumps({"database": options.database}), encoding="utf-8")
    return SwitchingShowcase(
        submitted=True,
        cancellations=submitted.submission.total,
        accepted=submitted.submission.counts[ResultKind.ACCEPTED],
        rejected=submitted.submission.counts[ResultKind.REJECTED],
        matched=matched,
        withdrawn=len(withdrawals),
    )


def _switching_database(marker: Path) -> str | None:
    try:
        return str(json.loads(marker.read_text(encoding="utf-8"))["database"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _read_steps(directory: Path) -> dict[str, int]:
    try:
        data = json.loads((directory / TOTP_STEPS_FILE).read_text(encoding="utf-8"))
        return {str(k): int(v) for k, v in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _write_steps(directory: Path, steps: dict[str, int]) -> None:
    (directory / TOTP_STEPS_FILE).write_text(json.dumps(steps, indent=2), encoding="utf-8")
