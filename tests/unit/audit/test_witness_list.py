"""SHADAN_LOG_WITNESSES: one witness a line (verifier key, URL); anything else refuses the whole file with
the line's number, so that the job never talks to fewer witnesses than the operator listed."""

from __future__ import annotations

import pytest

from shadan.audit.cosignature import Cosigner
from shadan.audit.cosignatures import WitnessCosignatureChecks
from shadan.audit.note import Signer
from shadan.domain.errors import InvalidInput
from shadan.services.cosigning import Witness
from shadan.services.witness_list import parse_witness_list

EGC = Cosigner.generate("egc.example.jp/witness").verifier.text()
AUDIT = Cosigner.generate("audit.example.jp/witness").verifier.text()
ROTATED = Cosigner.generate("egc.example.jp/witness").verifier.text()  # EGC's next key
canonical = WitnessCosignatureChecks().witness_key


def test_witnesses_in_the_order_of_the_file_comments_and_blank_lines_aside() -> None:
    text = (
        f"# 監視等委員会\n{EGC}   https://witness.egc.example.jp/\n"
        f"\n  {AUDIT}\thttp://10.0.8.5:8480  # 内部監査部\n"
    )
    assert parse_witness_list(text, canonical) == (
        Witness("https://witness.egc.example.jp/", EGC),
        Witness("http://10.0.8.5:8480", AUDIT),
    )
    assert [w.name for w in parse_witness_list(text, canonical)] == [
        "egc.example.jp/witness",
        "audit.example.jp/witness",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{EGC} https://a.example.jp\n{EGC}\n", "2 行目: 検証鍵と URL の 2 項目"),
        (f"{EGC} https://a.example.jp extra\n", "1 行目: 検証鍵と URL の 2 項目"),
        (f"{EGC} file:///etc/passwd\n", "1 行目: 証人の URL は http:// か https://"),
        (f"{EGC} https://\n", "1 行目: 証人の URL は http:// か https://"),
        (
            f"\n{Signer.generate('log.example.jp/log').verifier.text()} https://a.example.jp\n",
            "2 行目: 証人の検証鍵",
        ),
        ("not-a-key https://a.example.jp\n", "1 行目: 証人の検証鍵"),
        (f"{EGC} https://a.example.jp\n{EGC} https://b.example.jp\n", "2 行目: 同じ証人"),
        (f"{EGC} https://a.example.jp\n{ROTATED} https://a.example.jp\n", "2 行目: 同じ証人"),
        ("# nobody yet\n\n", "証人が 1 人も"),
    ],
    # The keys are generated: ids of their own keep the collection the same in every process.
    ids=[
        "no-url",
        "extra-field",
        "file-url",
        "url-without-host",
        "a-log-key",
        "no-key",
        "same-witness",
        "same-witness-rotated",
        "no-witness",
    ],
)
def test_a_bad_line_refuses_the_whole_file(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_witness_list(text, canonical)
