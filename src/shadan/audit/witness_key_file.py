"""The witness's signing keys in its home (services.witness.WitnessKey).

    <home>/witness.key   PRIVATE+KEY+<name>+<id>+<base64(0x04 || seed)>, one a line, oldest first
                         (mode 0600, directory 0700)
    <home>/witness.pub   their verifier keys, one a line in the same order (public)

A witness has one key, or two while it rotates: `rotate` adds a new key of the same name and the witness
cosigns with both, so every log and auditor holding either key keeps verifying while they switch to the
new one; `retire` then destroys every key but the newest. Both files are replaced whole (a temporary file,
fsync, rename), never edited in place; the temporary key file is made exclusively, so two rotations at
once cannot both write. A server reads the file again when it changed, so a rotation done by the command
line reaches a running `shadan witness serve` with its next request.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from shadan.audit.cosignature import Cosigner
from shadan.audit.note import NoteError
from shadan.domain.errors import InvalidInput
from shadan.services.witness import WitnessNotReady

KEY_FILE = "witness.key"
PUBLIC_FILE = "witness.pub"
_PRIVATE = 0o600
_PUBLIC = 0o644


class WitnessKeyFile:
    def __init__(self, home: Path) -> None:
        self._home = home
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[int, int, int], tuple[Cosigner, ...]] | None = None

    def create(self, name: str) -> str:
        try:
            cosigner = Cosigner.generate(name)
        except NoteError as exc:
            raise InvalidInput(f"証人の名前が不正です（空白・'+' は使えません）: {name!r}") from exc
        self._home.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # Never over an existing key: a witness keeps its identity (`rotate` adds to it instead).
            _write_new(self._home / KEY_FILE, cosigner.secret_text(), _PRIVATE)
        except FileExistsError as exc:
            raise InvalidInput(f"{self._home} には既に証人の鍵があります。") from exc
        _replace(self._home / PUBLIC_FILE, cosigner.verifier.text() + "\n", _PUBLIC)
        return cosigner.verifier.text()

    def verifier_keys(self) -> tuple[str, ...]:
        return tuple(c.verifier.text() for c in self._load())

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        return "".join(c.cosign(checkpoint_text, timestamp).line() for c in self._load())

    def rotate(self) -> str:
        keys = self._load()
        if len(keys) > 1:
            raise InvalidInput(
                "鍵の更新中です。古い鍵を退役させてから次の鍵を作ってください（retire-keys）。"
            )
        new = Cosigner.generate(keys[-1].verifier.name)
        self._write((*keys, new))
        return new.verifier.text()

    def retire(self) -> tuple[str, ...]:
        keys = self._load()
        if len(keys) == 1:
            raise InvalidInput("退役させる古い鍵がありません（証人の鍵は 1 つです）。")
        self._write(keys[-1:])
        return tuple(c.verifier.text() for c in keys[:-1])

    def _write(self, keys: Sequence[Cosigner]) -> None:
        # The public file first: a key that cosigns is always listed where the logs look for it.
        _replace(self._home / PUBLIC_FILE, "".join(c.verifier.text() + "\n" for c in keys), _PUBLIC)
        _replace(self._home / KEY_FILE, "".join(c.secret_text() + "\n" for c in keys), _PRIVATE)

    def _load(self) -> tuple[Cosigner, ...]:
        path = self._home / KEY_FILE
        try:
            stat = path.stat()
        except FileNotFoundError as exc:
            raise WitnessNotReady(
                f"{self._home} に証人の鍵がありません。`shadan witness init` を先に実行してください。"
            ) from exc
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._loaded is None or self._loaded[0] != version:
                self._loaded = (version, _parse(path))
            return self._loaded[1]


def _parse(path: Path) -> tuple[Cosigner, ...]:
    try:
        keys = tuple(Cosigner.parse(line) for line in path.read_text(encoding="ascii").split())
    except (NoteError, UnicodeDecodeError) as exc:
        raise WitnessNotReady(f"証人の鍵ファイル {path} の形式が不正です: {exc}") from exc
    if not keys or len({k.verifier.name for k in keys}) != 1:
        raise WitnessNotReady(f"証人の鍵ファイル {path} には同じ名前の鍵が 1 つ以上必要です。")
    return keys


def _replace(path: Path, content: str, mode: int) -> None:
    """The file's new content, whole or not at all; the temporary file is made exclusively."""
    temporary = path.with_name(path.name + ".new")
    try:
        _write_new(temporary, content, mode)
    except FileExistsError as exc:
        raise InvalidInput(
            f"{temporary} が残っています（別の鍵の更新中か、中断された更新）。確かめてから削除してください。"
        ) from exc
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _write_new(path: Path, content: str, mode: int) -> None:
    # The mode from the first byte: a key is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
