"""The witnesses the periodic job hands checkpoints to (SHADAN_LOG_WITNESSES): a text file, one witness a
line, its verifier key and its tlog-witness URL separated by blanks; `#` starts a comment.

    # 電力・ガス取引監視等委員会
    egc.example.jp/witness+1a2b3c4d+BFq… https://witness.egc.example.jp/
    # 内部監査部
    audit.example.jp/witness+5e6f7a8b+BHx… http://10.0.8.5:8480

A line that is not a key and an http(s) URL, or a witness named twice (even with two keys: a witness
rotating its key answers for both), refuses the whole file: a job silently talking to fewer witnesses
than the operator listed would leave proofs short of their quorum.
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
        witness = Witness(
            _on_line(number, witness_url, fields[1]), _on_line(number, canonical_key, fields[0])
        )
        if any(w.name == witness.name for w in witnesses):  # a witness is its name, whatever its key
            raise InvalidInput(f"証人の一覧 {number} 行目: 同じ証人が 2 回書かれています。")
        witnesses.append(witness)
    if not witnesses:
        raise InvalidInput("証人の一覧に証人が 1 人も書かれていません。")
    return tuple(witnesses)


def witness_url(text: str) -> str:
    """A witness's URL: http or https with a host (urllib would also open file: and ftp: URLs)."""
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput("証人の URL は http:// か https:// で始まる必要があります。")
    return text


def _on_line(number: int, check: Callable[[str], str], text: str) -> str:
    try:
        return check(text)
    except InvalidInput as exc:
        raise InvalidInput(f"証人の一覧 {number} 行目: {exc.message}") from exc
