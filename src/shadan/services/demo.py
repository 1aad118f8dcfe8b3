"""`shadan demo`, the main job: build a synthetic operator, issue demo logins, play the scenario, then
verify the access log and write a proof of one of the scenario's denied reads.

Everything goes through the services a user's requests go through (registry import, HR master, account
administration, login, TOTP, the vault, transfers, the tamper-evident log), so the demo shows the
firewall as it is, not a mock. The files and the demo state live in SHADAN_HOME/demo/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
from shadan.services.identity import Actor, local_day
from shadan.services.synthetic.generator import DEFAULT_SEED, DEFAULT_SIZE

DEMO_DIRECTORY = "demo"
TOTP_STEPS_FILE = "totp_steps.json"


class DemoServices(ScenarioServices, Protocol):
    """The container as the demo sees it (bootstrap's `Shadan` fits structurally)."""

    @property
    def registry_import(self) -> RegistryImporter: ...

    @property
    def hr_master(self) -> HrMasterLoader: ...

    @property
    def accounts(self) -> AccountAdmin: ...


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
class DemoSummary:
    world: WorldReport
    logins: tuple[DemoLogin, ...]
    scenario: ScenarioReport
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
    log = show_the_log(tools.log, tools.checker, report.events, options.directory, actor.account_id)
    return DemoSummary(world, logins, report, log, time.perf_counter() - started)


def _read_steps(directory: Path) -> dict[str, int]:
    try:
        data = json.loads((directory / TOTP_STEPS_FILE).read_text(encoding="utf-8"))
        return {str(k): int(v) for k, v in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _write_steps(directory: Path, steps: dict[str, int]) -> None:
    (directory / TOTP_STEPS_FILE).write_text(json.dumps(steps, indent=2), encoding="utf-8")
