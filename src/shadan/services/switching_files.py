"""The application and result files of `shadan switching validate` (DESIGN §5, §5.2).

Applications are read as a stream: a million rows would take gigabytes as one decoded string plus a dict
per row, so rows are decoded and parsed as they are consumed. Encoding detection, header rules and error
reporting are those of every interchange file (services/tabular.py): UTF-8 with or without BOM, or CP932.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

from shadan.domain.switching import ErrorCode, ResultKind
from shadan.services.switching_rows import APPLICATION_COLUMNS, RESULT_COLUMNS
from shadan.services.tabular import UTF8_BOM, CsvFormatError, CsvRow, RowError, csv_rows, decode, read_csv

_PROBE_BYTES = 4 << 20


class ResultEncoding(StrEnum):
    UTF8 = "utf-8"
    UTF8_BOM = "utf-8-sig"  # Excel recognises UTF-8 only with the BOM
    CP932 = "cp932"  # Shift_JIS as Excel writes it


@dataclass(frozen=True, slots=True)
class ApplicationResult:
    """One row of the results file; `codes` ascending, empty unless rejected."""

    line: int
    application_id: str
    result: ResultKind
    codes: tuple[ErrorCode, ...]
    message: str

    @property
    def error_code(self) -> str:
        return self.codes[0].value if self.codes else ""

    @property
    def error_codes(self) -> str:
        return " ".join(c.value for c in self.codes)


def detect_encoding(data: bytes) -> str:
    """UTF-8 with BOM, UTF-8, else CP932 — the rule of `tabular.decode`, checked without one big string."""
    if data.startswith(UTF8_BOM):
        return "utf-8-sig"
    for encoding in ("utf-8", "cp932"):
        if _decodes(data, encoding):
            return encoding
    decode(data)  # raises CsvFormatError naming the line of the first undecodable byte
    raise AssertionError("decode() accepted bytes that neither UTF-8 nor CP932 decode")


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for start in range(0, len(view), _PROBE_BYTES):
            decoder.decode(view[start : start + _PROBE_BYTES])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def read_applications(
    data: bytes, columns: Sequence[str] = APPLICATION_COLUMNS
) -> tuple[str, Iterator[CsvRow]]:
    """The detected encoding and the rows (header checked first; cells trimmed; blank lines skipped)."""
    encoding = detect_encoding(data)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, strict=True)
    header = _header(reader, columns)
    return encoding, csv_rows(reader, header)


def _header(reader: Iterator[list[str]], columns: Sequence[str]) -> tuple[str, ...]:
    try:
        cells = next(reader)
    except StopIteration:
        raise CsvFormatError([RowError(1, "", "ファイルが空です（ヘッダー行が必要です）。")]) from None
    except csv.Error as exc:
        raise CsvFormatError([RowError(1, "", f"CSVとして読めません（{exc}）。")]) from exc
    header = tuple(h.strip() for h in cells)
    # The shared header rules (unknown, missing, duplicated, unnamed columns, all reported at once).
    read_csv(_csv_line(header).encode("utf-8"), columns)
    return header


def _csv_line(cells: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(list(cells))
    return out.getvalue()


def write_results(rows: Iterable[ApplicationResult], out: BinaryIO, encoding: ResultEncoding) -> None:
    """The results CSV (DESIGN §5.2). Characters CP932 lacks (only ever in echoed application ids) become
    '?' rather than failing the whole file."""
    text = io.TextIOWrapper(out, encoding=encoding.value, errors="replace", newline="", write_through=False)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(RESULT_COLUMNS)
        writer.writerows(
            (r.application_id, r.result.value, r.error_code, r.error_codes, r.message) for r in rows
        )
        text.flush()
    finally:
        text.detach()
