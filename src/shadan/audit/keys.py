"""The log's signing key on disk: generated on first use, rotated on request, never logged.

    <keys dir>/log-signer.key     PRIVATE+KEY+<name>+<id>+<base64>   (mode 0600, directory 0700)
    <keys dir>/log-verifier.pub   the current verifier key (public; hand it to auditors)
    <keys dir>/retired.pub        verifier keys of earlier signing keys, one a line, oldest first

The key name is the log's origin, fixed when the first key is made, so rotation changes the key id and
never the log identity; old checkpoints stay verifiable with the retired public keys. Every app server
that signs checkpoints must hold the same key file (copy it after the first start).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from pathlib import Path

from shadan.audit.note import Signer, Verifier

SIGNER_FILE = "log-signer.key"
VERIFIER_FILE = "log-verifier.pub"
RETIRED_FILE = "retired.pub"


class FileKeyStore:
    def __init__(self, directory: Path, origin_for_new_key: str) -> None:
        self._directory = directory
        self._origin_for_new_key = origin_for_new_key
        self._lock = threading.Lock()
        self._signer: Signer | None = None

    def signer(self) -> Signer:
        with self._lock:
            if self._signer is None:
                self._signer = self._load_or_create()
            return self._signer

    def verifiers(self) -> tuple[Verifier, ...]:
        """Every public key that ever signed for this log: the current one first."""
        return (self.signer().verifier, *self.retired())

    def retired(self) -> tuple[Verifier, ...]:
        path = self._directory / RETIRED_FILE
        if not path.exists():
            return ()
        lines = path.read_text(encoding="ascii").splitlines()
        return tuple(Verifier.parse(line) for line in lines if line.strip())

    def rotate(self) -> Signer:
        """A new signing key under the same name; the old public key moves to the retired list."""
        with self._lock:
            old = self._signer or self._load_or_create()
            new = Signer.generate(old.name)
            with (self._directory / RETIRED_FILE).open("a", encoding="ascii") as out:
                out.write(old.verifier.text() + "\n")
            self._write_secret(new, replace=True)
            self._signer = new
            return new

    def _load_or_create(self) -> Signer:
        path = self._directory / SIGNER_FILE
        if not path.exists():
            self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Exclusive create: two processes starting together end up with one key, the first one's.
            with contextlib.suppress(FileExistsError):
                self._write_secret(Signer.generate(self._origin_for_new_key), replace=False)
        signer = Signer.parse(path.read_text(encoding="ascii"))
        self._write_public(signer)
        return signer

    def _write_secret(self, signer: Signer, replace: bool) -> None:
        path = self._directory / SIGNER_FILE
        temporary = self._directory / f".{SIGNER_FILE}.{os.getpid()}.{threading.get_ident()}"
        temporary.unlink(missing_ok=True)
        # 0600 from the first byte: the key is never readable by others, not even for a moment.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(signer.secret_text())
            out.flush()
            os.fsync(out.fileno())
        try:
            if replace:
                os.replace(temporary, path)
            else:
                # A hard link appears whole or not at all, and fails if another process won the race.
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        self._write_public(signer)

    def _write_public(self, signer: Signer) -> None:
        path = self._directory / VERIFIER_FILE
        text = signer.verifier.text() + "\n"
        if not path.exists() or path.read_text(encoding="ascii") != text:
            path.write_text(text, encoding="ascii")


def default_origin(system_name: str) -> str:
    """The log's name for a new key: the system name (spaces and '+' dropped) and a random suffix, so two
    operators who keep the default system name still get distinct logs at a witness."""
    slug = "".join(c for c in system_name if not c.isspace() and c != "+") or "shadan"
    return f"{slug}/access-log/{secrets.token_hex(4)}"
