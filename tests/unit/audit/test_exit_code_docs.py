"""The exit codes of `shadan audit verify` are the documented ones (docs/access-log.md, "Exit codes")."""

from __future__ import annotations

import re
from pathlib import Path

from shadan.services.audit_log import FAILURE_EXIT_CODES, LogFailureKind

DOC = Path(__file__).resolve().parents[3] / "docs" / "access-log.md"


def test_every_kind_of_failure_has_a_code_of_its_own() -> None:
    assert set(FAILURE_EXIT_CODES) == set(LogFailureKind)
    assert len(set(FAILURE_EXIT_CODES.values())) == len(FAILURE_EXIT_CODES)


def test_the_documented_codes_of_verify_are_the_codes() -> None:
    documented = {
        int(code) for code in re.findall(r"^\| `verify` \| (\d+) \|", DOC.read_text(), re.MULTILINE)
    }
    assert documented == set(FAILURE_EXIT_CODES.values())
