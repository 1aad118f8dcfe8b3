"""The demo's world: the synthetic operator written as files and loaded the way a user would load them.

The files go to SHADAN_HOME/demo/ and are imported with the registry import and the HR master loader,
not written to the database directly, so the demo exercises the same checks as a real import. A file is
imported only when its content differs from what this database last took from it (`state.json`): a
second `shadan demo` reuses the data, and loading the HR master again cannot undo the demo's transfer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shadan.domain.errors import InvalidInput
from shadan.domain.identity import Account
from shadan.services.hr_master import LoadResult
from shadan.services.identity import Actor
from shadan.services.registry_import import (
    FileImportResult,
    ImportOutcome,
    ImportSource,
    Progress,
    RegistryFile,
)
from shadan.services.synthetic.files import companies_csv, registry_files, staff_csv
from shadan.services.synthetic.generator import SyntheticOperator, generate

STATE_FILE = "state.json"
REGISTRY_FILE_NAMES: dict[RegistryFile, str] = {
    RegistryFile.RETAILERS: "retailers.csv",
    RegistryFile.READING_CALENDAR: "reading_calendar.csv",
    RegistryFile.SUPPLY_POINTS: "supply_points.csv",
}
HR_COMPANIES_FILE = "hr_companies.csv"
HR_STAFF_FILE = "hr_staff.csv"
STATE_VERSION = 1


class RegistryImporter(Protocol):
    def import_files(
        self,
        sources: list[ImportSource],
        actor: str,
        *,
        skip_invalid: bool = False,
        progress_for: Callable[[RegistryFile], Progress] | None = None,
    ) -> tuple[FileImportResult, ...]: ...


class HrMasterLoader(Protocol):
    def load(self, data: bytes, actor: Actor, skip_invalid: bool = False) -> LoadResult: ...


class AccountLookup(Protocol):
    def get(self, account_id: str) -> Account | None: ...


class WorldServices(Protocol):
    """What building the world needs from the container (bootstrap's `Shadan` fits)."""

    @property
    def registry_import(self) -> RegistryImporter: ...

    @property
    def hr_master(self) -> HrMasterLoader: ...

    @property
    def accounts(self) -> AccountLookup: ...


StageProgress = Callable[[str, int, int], None]
"""(stage label, total, done): the CLI draws one progress bar per stage."""


@dataclass(frozen=True, slots=True)
class WorldOptions:
    directory: Path
    size: int
    seed: int
    today: dt.date
    database: str  # which database the state file speaks about (its URL without password)


@dataclass(frozen=True, slots=True)
class WrittenFile:
    name: str
    rows: int
    size_bytes: int
    sha256: str
    imported: bool  # False: this database already holds this exact file


@dataclass(frozen=True, slots=True)
class WorldReport:
    directory: Path
    operator: SyntheticOperator
    files: tuple[WrittenFile, ...]
    registry: tuple[FileImportResult, ...]
    hr_master: tuple[LoadResult, ...]

    @property
    def reused(self) -> bool:
        return not any(f.imported for f in self.files)


def build_world(
    services: WorldServices, options: WorldOptions, actor: Actor, progress: StageProgress
) -> WorldReport:
    progress("合成データの生成", options.size, 0)
    operator = generate(options.size, options.seed, options.today)
    progress("合成データの生成", options.size, options.size)
    contents = _contents(operator)
    state = _State.read(options)
    # The first demo account missing means the database is new (or was reset): load everything again.
    if services.accounts.get(operator.staff[0].account_id) is None:
        state = _State.empty(options)
    changed = {name for name, data in contents.items() if state.loaded.get(name) != _sha(data)}
    _write_files(options.directory, contents)
    registry = _import_registry(services, contents, changed, actor, progress)
    hr = _load_hr_master(services, contents, changed, actor, progress)
    state.remember({name: _sha(contents[name]) for name in changed}).write(options)
    files = tuple(
        WrittenFile(name, data.count(b"\n") - 1, len(data), _sha(data), name in changed)
        for name, data in contents.items()
    )
    return WorldReport(options.directory, operator, files, registry, hr)


def _contents(operator: SyntheticOperator) -> dict[str, bytes]:
    registry = registry_files(operator)
    contents = {REGISTRY_FILE_NAMES[kind]: registry[kind] for kind in REGISTRY_FILE_NAMES}
    contents[HR_COMPANIES_FILE] = companies_csv(operator.companies)
    contents[HR_STAFF_FILE] = staff_csv(operator.staff)
    return contents


def _write_files(directory: Path, contents: dict[str, bytes]) -> None:
    # The files hold (synthetic) personal data: readable by the owner only, like the rest of SHADAN_HOME.
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, data in contents.items():
        path = directory / name
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            path.chmod(0o600)


def _import_registry(
    services: WorldServices,
    contents: dict[str, bytes],
    changed: set[str],
    actor: Actor,
    progress: StageProgress,
) -> tuple[FileImportResult, ...]:
    sources = [
        ImportSource(kind, name, contents[name])
        for kind, name in REGISTRY_FILE_NAMES.items()
        if name in changed
    ]
    if not sources:
        return ()

    def progress_for(kind: RegistryFile) -> Progress:
        return lambda total, done: progress(f"取込: {kind.label}", total, done)

    results = services.registry_import.import_files(sources, actor.account_id, progress_for=progress_for)
    refused = [r for r in results if r.outcome is not ImportOutcome.IMPORTED]
    if refused:
        # Generated files that the import refuses are a bug in the generator: stop rather than demo it.
        first = refused[0]
        reasons = "; ".join(str(e) for e in first.rejected[:3])
        raise InvalidInput(f"デモデータ {first.source_name} を取り込めませんでした: {reasons}")
    return results


def _load_hr_master(
    services: WorldServices,
    contents: dict[str, bytes],
    changed: set[str],
    actor: Actor,
    progress: StageProgress,
) -> tuple[LoadResult, ...]:
    names = [name for name in (HR_COMPANIES_FILE, HR_STAFF_FILE) if name in changed]
    results = []
    for done, name in enumerate(names, start=1):
        result = services.hr_master.load(contents[name], actor)
        if not result.committed or result.errors:
            reasons = "; ".join(str(e) for e in result.errors[:3])
            raise InvalidInput(f"デモの人事マスタ {name} を読み込めませんでした: {reasons}")
        results.append(result)
        progress("人事マスタの読込", len(names), done)
    return tuple(results)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class _State:
    """Which file contents this database has taken, by SHA-256 (state.json beside the files)."""

    loaded: dict[str, str]

    @classmethod
    def empty(cls, _options: WorldOptions) -> _State:
        return cls({})

    @classmethod
    def read(cls, options: WorldOptions) -> _State:
        path = options.directory / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls({})
        if data.get("version") != STATE_VERSION or data.get("database") != options.database:
            return cls({})
        loaded = data.get("loaded", {})
        return cls({str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {})

    def remember(self, loaded: dict[str, str]) -> _State:
        return _State({**self.loaded, **loaded})

    def write(self, options: WorldOptions) -> None:
        data = {"version": STATE_VERSION, "database": options.database, "loaded": self.loaded}
        path = options.directory / STATE_FILE
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
