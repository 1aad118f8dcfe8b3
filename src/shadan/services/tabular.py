"""Reading interchange CSV files (DESIGN §5): UTF-8 (BOM or not) or CP932, detected; strict headers.

Parsing is separate from checking: this module turns bytes into numbered rows and refuses bad headers;
each import then checks its rows and reports every rejected row with line, column and reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from shadan.domain.errors import InvalidInput

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.line}行目" + (f" 列「{self.column}」" if self.column else "")
        return f"{where}: {self.reason}"


class CsvFormatError(InvalidInput):
    """The file as a whole cannot be read (encoding, header, CSV syntax); `errors` say where and why."""

    code = "csv_format_error"

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class CsvFile:
    encoding: str
    header: tuple[str, ...]
    rows: tuple[CsvRow, ...]


def decode(data: bytes) -> tuple[str, str]:
    """Text and the detected encoding: UTF-8 with BOM, UTF-8, else CP932 (Excel's Shift_JIS)."""
    if data.startswith(UTF8_BOM):
        return data[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        # Report where the first undecodable byte is, so the user can find the broken character.
        line = data[: exc.start].count(b"\n") + 1
        reason = "文字コードを判別できません（UTF-8 または CP932 で保存してください）。"
        raise CsvFormatError([RowError(line, "", reason)]) from exc


def read_csv(data: bytes, required: Sequence[str], optional: Sequence[str] = ()) -> CsvFile:
    """Parse a CSV with a header row; column order is free, unknown or missing columns are an error."""
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = tuple(h.strip() for h in next(reader))
    except StopIteration:
        raise CsvFormatError([RowError(1, "", "ファイルが空です（ヘッダー行が必要です）。")]) from None
    except csv.Error as exc:
        raise CsvFormatError([RowError(1, "", f"CSVとして読めません（{exc}）。")]) from exc
    _check_header(header, required, optional)
    return CsvFile(encoding=encoding, header=header, rows=tuple(csv_rows(reader, header)))


def _check_header(header: tuple[str, ...], required: Sequence[str], optional: Sequence[str]) -> None:
    """Every header problem at once, one error per column, so a user fixes the header in one go."""
    errors = [
        RowError(1, h, "列名が重複しています。") for h in sorted({h for h in header if header.count(h) > 1})
    ]
    errors += [
        RowError(1, h, "不明な列です。" if h else "列名が空の列があります。")
        for h in dict.fromkeys(header)
        if h not in required and h not in optional
    ]
    errors += [RowError(1, c, "必須の列がありません。") for c in required if c not in header]
    if errors:
        raise CsvFormatError(errors)


def csv_rows(reader: Iterator[list[str]], header: tuple[str, ...]) -> Iterator[CsvRow]:
    """The rows after the header, blank lines skipped; a row whose cell count differs from the header's
    holds only `__arity__` (arity_error). Numbered by physical line (a quoted cell may span lines), so
    reported lines match the user's editor."""
    line: int = reader.line_num  # type: ignore[attr-defined]
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvFormatError([RowError(start, "", f"CSVとして読めません（{exc}）。")]) from exc
        line = reader.line_num  # type: ignore[attr-defined]
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            values = {"__arity__": f"{len(cells)}"}
        else:
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        yield CsvRow(line=start, values=values)


def arity_error(row: CsvRow, expected: int) -> RowError | None:
    """A row whose cell count differs from the header's is rejected as a whole."""
    count = row.values.get("__arity__")
    if count is None:
        return None
    return RowError(row.line, "", f"列の数が {count} 個です（ヘッダーは {expected} 列）。")
