"""The witnesses the periodic job hands checkpoints to (SHADAN_LOG_WITNESSES): a text file, one witness a
line, its verifier key and its tlog-witness URL separated by blanks; `#` starts a comment.

    # 電力・ガス取引監視等委員会
    egc.example.jp/witness+1a2b3c4d+BFq… https://witness.egc.example.jp/
    # 内部監査部
    audit.example.jp/witness+5e6f7a8b+BHx… http://10.0.8.5:8480

A line that is not a key and an http(s) URL, or a witness named twice, refuses the whole file: a job
silently talking to fewer witnesses than the operator listed would leave proofs short of their quorum.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from shadan.domain.errors import InvalidInput
from shadan.services.cosigning import Witness


def parse_witness_list(text: str, canonical_key: Callable[[str], str]) -> tuple[Witness, ...]:
    """The witnesses of the file, in its order; `canonical_key` checks a verifier key (InvalidInput)."""
    witnesses: list[Witness] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise InvalidInput(f"証人の一覧 {number} 行目: 検証鍵と URL の 2 項目が必要です。")
        witness = Witness(_url(fields[1], number), _key(fields[0], number, canonical_key))
        if any(w.key == witness.key for w in witnesses):
            raise InvalidInput(f"証人の一覧 {number} 行目: 同じ証人の鍵が 2 回書かれています。")
        witnesses.append(witness)
    if not witnesses:
        raise InvalidInput("証人の一覧に証人が 1 人も書かれていません。")
    return tuple(witnesses)


def _key(text: str, number: int, canonical_key: Callable[[str], str]) -> str:
    try:
        return canonical_key(text)
    except InvalidInput as exc:
        raise InvalidInput(f"証人の一覧 {number} 行目: {exc.message}") from exc


def _url(text: str, number: int) -> str:
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput(f"証人の一覧 {number} 行目: URL は http:// か https:// で始まる必要があります。")
    return text
