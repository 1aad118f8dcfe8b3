"""Worker processes keep the memory they free (cores.keep_freed_memory): a block as large as a chunk's
entries is handed out again without the page faults of fresh pages."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# A fresh interpreter, so that nothing else has set malloc's parameters: the page faults of allocating
# and freeing 64 MB once more, after a first time.
_FAULTS_OF_A_SECOND_BLOCK = """
import resource, sys
from shadan.audit.cores import keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = bytearray(64 << 20); del block
before = faults()
block = bytearray(64 << 20); del block
print(faults() - before)
"""


def _faults(mode: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", _FAULTS_OF_A_SECOND_BLOCK, mode], capture_output=True, text=True, check=True
    )
    return int(run.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_worker_uses_freed_memory_again() -> None:
    pages = (64 << 20) // 4096
    assert _faults("default") > pages // 2  # glibc maps a block this large afresh every time
    assert _faults("keep") < pages // 20
