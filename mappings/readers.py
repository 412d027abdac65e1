"""Read an uploaded CSV or XLSX file into an :class:`~mappings.table.InputTable`.

Files come from coalition data officers who know Excel, not SDMX, so the reader accepts what Excel and
text editors really produce (title rows, merged two-row headers, Windows-1252 CSVs, byte-order marks,
semicolons, trailing delimiters, blank cells) and refuses everything else with a :class:`TableError` that
says, in plain words, what is wrong and how to fix it. Nothing is guessed silently: every repair is listed
in ``InputTable.warnings``. Cell text is kept as typed ("45%", "1.234,5", "n/a"); parsing values is the
mapping engine's job.

The format is found by content, never by file name: XLSX (a ZIP with ``[Content_Types].xml`` and ``xl/``),
otherwise text (CSV). Legacy ``.xls``, OpenDocument ``.ods``, PDF, HTML and other formats are refused with
advice to save the table as ``.xlsx`` or CSV.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from mappings.spec import Input
from mappings.table import InputTable, TableError

__all__ = ["read_table"]

MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
"""Largest total uncompressed size of an XLSX archive's members (bytes)."""
MAX_COMPRESSION_RATIO = 100
"""Largest uncompressed/compressed size ratio of one XLSX member (members under 1 MiB are exempt)."""
RATIO_EXEMPT_BELOW = 1024 * 1024
MAX_ZIP_MEMBERS = 5_000
"""Largest number of members in an XLSX archive (Excel writes a few dozen)."""
MAX_AUTO_HEADER_ROWS = 3
"""Most header rows the automatic detection takes (more can be asked for with ``header_rows``)."""
HEADER_SEARCH_ROWS = 10
"""The header is looked for among the first this many non-empty rows."""
LIST_LIMIT = 10
"""Cells, lines or sheets listed in one message before "and N more"."""

_SAVE_AS = "Open it in Excel and save it as an Excel Workbook (.xlsx) or as 'CSV UTF-8', then upload that file."
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (
        b"%PDF",
        "a PDF document",
        "Copy the table from the PDF into Excel, check every number after copying, save it as .xlsx or "
        "'CSV UTF-8' and upload that file.",
    ),
    (b"\x89PNG", "a PNG image", "Type the table into Excel and save it as .xlsx or 'CSV UTF-8'."),
    (b"\xff\xd8\xff", "a JPEG image", "Type the table into Excel and save it as .xlsx or 'CSV UTF-8'."),
    (b"GIF8", "a GIF image", "Type the table into Excel and save it as .xlsx or 'CSV UTF-8'."),
    (b"\x1f\x8b", "a compressed (.gz) file", "Unpack it and upload the .xlsx or CSV file inside."),
    (b"Rar!", "a RAR archive", "Unpack it and upload the .xlsx or CSV file inside."),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "Unpack it and upload the .xlsx or CSV file inside."),
)
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WINDOWS_1252 = (
    "decoded as Windows-1252 (Latin-1) because the file is not UTF-8; check that accented letters (é, ñ) "
    "look right, or save the file from Excel as 'CSV UTF-8'"
)
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_SNIFF_CHARS = 65_536
_NUMBER = re.compile(r"[+\-−]?(?:\d+(?:[.,'\s]\d+)*(?:[.,]\d*)?|[.,]\d+)\s*[%‰]?")
_YEAR = re.compile(r"(?:1[89]|2[01])\d\d")
_QUOTED_IN_FORMAT = re.compile(r'"[^"]*"|\\.')


@dataclass(slots=True)
class _Row:
    """One non-blank source row: its 1-based number, its cells from column A, and its raw cell count."""

    number: int
    cells: list[str]
    raw_len: int


def read_table(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    header_rows: int | None = None,
    skip_rows: int | None = None,
    max_cells: int = 5_000_000,
    max_columns: int = 1000,
) -> InputTable:
    """Read an uploaded CSV or XLSX file into an InputTable, or raise TableError with advice for the user.

    ``sheet`` chooses a worksheet by name (default: the first visible sheet with data). ``skip_rows`` skips
    that many rows (CSV lines) at the top; ``header_rows`` gives the number of header rows (0: no header,
    columns are then named by their letters). Without them the header is detected and title rows above it
    are skipped. ``max_cells`` and ``max_columns`` bound the table read.
    """
    if header_rows is not None and header_rows < 0:
        raise TableError(f"The number of header rows must be 0 or more, not {header_rows}.")
    if skip_rows is not None and skip_rows < 0:
        raise TableError(f"The number of rows to skip must be 0 or more, not {skip_rows}.")
    if not data:
        raise TableError("The file is empty.")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _read_xlsx(data, filename, sheet, header_rows, skip_rows, max_cells, max_columns)
    if data.startswith(_OLE2):
        if _ENCRYPTED in data:
            raise TableError(
                "This workbook is protected with a password, so it cannot be read. Remove the password in Excel "
                "(File → Info → Protect Workbook), save it as .xlsx and upload it again."
            )
        raise TableError(f"This is an old-format Excel 97-2003 workbook (.xls), which cannot be read. {_SAVE_AS}")
    for magic, what, advice in _MAGIC:
        if data.startswith(magic):
            raise TableError(f"This file is {what}, not a table. {advice}")
    table = _read_csv(data, filename, header_rows, skip_rows, max_cells, max_columns)
    if sheet is not None:
        table.warnings.append(f"the sheet name '{sheet}' was ignored: a CSV file has no sheets")
    return table


# --------------------------------------------------------------------------------------------- CSV


def _read_csv(
    data: bytes,
    filename: str,
    header_rows: int | None,
    skip_rows: int | None,
    max_cells: int,
    max_columns: int,
) -> InputTable:
    text, notes = _decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip(' \t\r\n\f\v,;|"\ufeff'):  # nothing but white space and delimiters
        raise TableError("The file is empty.")
    _refuse_non_table_text(text)
    delimiter = _sniff_delimiter(text)
    rows = _parse_csv(text, delimiter, max_cells, max_columns, notes)
    table, _ = _build_table(
        rows,
        source=filename,
        unit="line",
        subject="The file",
        header_rows=header_rows,
        skip_rows=skip_rows,
        delimiter=delimiter,
        notes=notes,
    )
    return table


def _decode(data: bytes) -> tuple[str, list[str]]:
    """Decode CSV bytes: BOM (UTF-8/16/32), UTF-16 without BOM, UTF-8, else Windows-1252 with a warning."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if codec == "utf-8":
                return _decode_utf8(body, bom=True)
            try:
                return body.decode(codec), []
            except UnicodeDecodeError as exc:
                raise TableError(
                    f"The file starts with a {name} byte-order mark but is not valid {name} text "
                    f"(bad bytes at position {exc.start + len(bom):,}). {_SAVE_AS}"
                ) from exc
    sample = data[:65_536]
    if b"\x00" in sample:
        codec = _utf16_without_bom(sample)
        if codec is not None:
            try:
                return data.decode(codec), ["decoded as UTF-16 (the file has no byte-order mark)"]
            except UnicodeDecodeError:
                pass
        raise TableError(_binary_message())
    return _decode_utf8(data, bom=False)


def _utf16_without_bom(sample: bytes) -> str | None:
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 2:
        return None
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.3 and zeros_even < 0.02:
        return "utf-16-le"
    if zeros_even > 0.3 and zeros_odd < 0.02:
        return "utf-16-be"
    return None


def _decode_utf8(data: bytes, *, bom: bool) -> tuple[str, list[str]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        bad_line = len(_LINE_BREAK.findall(data, 0, exc.start)) + 1
        if b"\x00" in data:
            raise TableError(_binary_message()) from exc
        good = _UTF8_MULTIBYTE.search(data)
        if bom or good is not None:
            evidence = (
                f"line {len(_LINE_BREAK.findall(data, 0, good.start())) + 1} is UTF-8"
                if good is not None
                else "the file starts with a UTF-8 byte-order mark"
            )
            raise TableError(
                f"The file mixes text encodings: line {bad_line:,} is not UTF-8, while {evidence}. This happens when "
                f"rows are pasted together from different files. Open the file in Excel or a text editor, check the "
                f"accented letters on line {bad_line:,}, and save it as 'CSV UTF-8'."
            ) from exc
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, [_WINDOWS_1252]


def _binary_message() -> str:
    return f"The file is not a text (CSV) file or an Excel workbook: it contains binary data. {_SAVE_AS}"


def _refuse_non_table_text(text: str) -> None:
    head = text[:4096].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<table")) or "<html" in head[:512]:
        raise TableError(
            "This file is a web page (HTML), not a CSV table; some systems save web pages with an .xls or .csv "
            f"name. {_SAVE_AS}"
        )
    if head.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise TableError(f"This is an 'XML Spreadsheet 2003' file, which cannot be read. {_SAVE_AS}")
    if head.startswith("{\\rtf"):
        raise TableError(f"This is a Word (RTF) document, not a table. {_SAVE_AS}")
    sample = text[:_SNIFF_CHARS]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        raise TableError(_binary_message())


def _sniff_delimiter(text: str) -> str:
    """Choose among , ; tab | : the delimiter giving the most consistent cell counts (csv.Sniffer breaks ties)."""
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    if truncated and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]
    sniff_sample = "\n".join(sample.splitlines()[:20])[:8192]
    try:
        sniffed: str | None = csv.Sniffer().sniff(sniff_sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    best, best_key = ",", (False, 0.0, False, 0, 0)
    for order, delimiter in enumerate(_DELIMITERS):
        widths: list[int] = []
        try:
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                width = _trimmed_len(record)
                if width:
                    widths.append(width)
                if len(widths) > 100:
                    break
        except csv.Error:
            continue
        if truncated and len(widths) > 1:
            widths.pop()
        if not widths:
            continue
        counts = Counter(widths)
        modal = max(counts, key=lambda width: (counts[width], width))
        key = (modal > 1, counts[modal] / len(widths), delimiter == sniffed, modal, -order)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _parse_csv(text: str, delimiter: str, max_cells: int, max_columns: int, notes: list[str]) -> list[_Row]:
    try:
        return _csv_rows(text, delimiter, max_cells, max_columns, strict=True)
    except _QuoteProblem as problem:
        if "unexpected end of data" in problem.message:
            raise TableError(
                f'A quote mark (") opened on line {problem.line:,} is never closed, so the rest of the file would '
                "be read as one cell. Remove the stray quote mark or close it, then upload again."
            ) from None
        notes.append(f"line {problem.line:,} has text after a closing quote mark; the quote marks were dropped")
    try:
        return _csv_rows(text, delimiter, max_cells, max_columns, strict=False)
    except _QuoteProblem as problem:  # pragma: no cover - the non-strict parser only fails on huge cells
        raise TableError(f"Line {problem.line:,} cannot be read as CSV ({problem.message}).") from None


class _QuoteProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def _csv_rows(text: str, delimiter: str, max_cells: int, max_columns: int, *, strict: bool) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=strict)
    rows: list[_Row] = []
    cells = 0
    previous = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise TableError(
                    f"Line {previous + 1:,} has a cell longer than {csv.field_size_limit():,} characters (perhaps a "
                    'quote mark " that is never closed).'
                ) from None
            raise _QuoteProblem(previous + 1, str(exc)) from None
        start, previous = previous + 1, reader.line_num
        width = _trimmed_len(record)
        if not width:
            continue
        if width > max_columns:
            raise TableError(f"Line {start:,} has {width:,} columns; the limit is {max_columns:,}.")
        cells += width
        if cells > max_cells:
            raise TableError(_too_many_cells(max_cells))
        rows.append(_Row(start, record, len(record)))
    return rows


def _too_many_cells(max_cells: int) -> str:
    return f"The table has more than {max_cells:,} cells, the limit. Split it into smaller files and upload each."


# -------------------------------------------------------------------------------------------- XLSX


def _read_xlsx(
    data: bytes,
    filename: str,
    sheet: str | None,
    header_rows: int | None,
    skip_rows: int | None,
    max_cells: int,
    max_columns: int,
) -> InputTable:
    _check_archive(data)
    import openpyxl  # imported here: CSV uploads do not need it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
        except Exception as exc:
            raise TableError(
                "The workbook could not be opened: it is damaged or not a real .xlsx file. Open it in Excel, save "
                "it again as an Excel Workbook (.xlsx) and upload that file."
            ) from exc
        try:
            worksheet, notes = _choose_sheet(workbook, sheet)
            title = worksheet.title
            rows, formulas, dates = _read_sheet(worksheet, max_cells, max_columns)
        except TableError:
            raise
        except Exception as exc:
            raise TableError(
                "The workbook could not be read: part of it is damaged. Open it in Excel, save it again as .xlsx "
                "and upload that file."
            ) from exc
        finally:
            workbook.close()
    if formulas:
        shown = "; ".join(f"{reference}: {formula}" for reference, formula in formulas[:LIST_LIMIT])
        raise TableError(
            f"Sheet '{title}' has {len(formulas):,} cell{_s(len(formulas))} with formulas ({shown}"
            f"{_more(len(formulas))}). Formulas are not calculated here. In Excel, select the table, copy it, use "
            "Paste Special → Values, then save and upload again."
        )
    table, used_rows = _build_table(
        rows,
        source=f"{filename}!{title}",
        unit="row",
        subject=f"Sheet '{title}'",
        header_rows=header_rows,
        skip_rows=skip_rows,
        delimiter=None,
        notes=notes,
    )
    dated = [f"{reference} ({text})" for row, reference, text in dates if row in used_rows]
    if dated:
        table.warnings.append(
            f"dates converted to ISO text (YYYY-MM-DD) in cell{_s(len(dated))} {', '.join(dated[:LIST_LIMIT])}"
            f"{_more(len(dated))}; if these should be numbers (Excel turns 1/2 or 3-4 into dates), format the "
            "cells as Text and type them again"
        )
    return table


def _check_archive(data: bytes) -> None:
    """Refuse ZIP files that are not XLSX, and zip bombs, before openpyxl decompresses anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise TableError(f"The file is a damaged ZIP archive or workbook. {_SAVE_AS}") from exc
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if "mimetype" in names and any("opendocument.spreadsheet" in _small_member(archive, m) for m in members):
            raise TableError(f"This is an OpenDocument spreadsheet (.ods), which cannot be read. {_SAVE_AS}")
        if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
            kind = "a Word document" if any(name.startswith("word/") for name in names) else "a ZIP archive"
            raise TableError(
                f"This file is {kind}, not an Excel workbook or CSV table. Upload the table itself as .xlsx or "
                "'CSV UTF-8' (unpack ZIP archives first)."
            )
        if len(members) > MAX_ZIP_MEMBERS:
            raise TableError(_unsafe(f"it has {len(members):,} parts (the limit is {MAX_ZIP_MEMBERS:,})"))
        total = sum(member.file_size for member in members)
        if total > MAX_XLSX_UNCOMPRESSED:
            raise TableError(_unsafe(f"it unpacks to {_size(total)} (the limit is {_size(MAX_XLSX_UNCOMPRESSED)})"))
        for member in members:
            if member.flag_bits & 0x1:
                raise TableError("The workbook is encrypted. Remove the password in Excel, save it and upload again.")
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size >= RATIO_EXEMPT_BELOW and ratio > MAX_COMPRESSION_RATIO:
                raise TableError(
                    _unsafe(
                        f"its part {member.filename} is compressed {ratio:,.0f} times "
                        f"(the limit is {MAX_COMPRESSION_RATIO})"
                    )
                )
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                try:
                    with archive.open(member) as stream:
                        head = stream.read(2048)
                except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
                    raise TableError(f"The workbook is damaged ({member.filename}). {_SAVE_AS}") from exc
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise TableError(_unsafe(f"its part {member.filename} declares XML entities"))


def _small_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str:
    if member.filename != "mimetype" or member.file_size > 200:
        return ""
    try:
        return archive.read(member).decode("ascii", "replace")
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return ""


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:,.0f} KB"


def _unsafe(reason: str) -> str:
    return (
        f"The workbook was refused as unsafe: {reason}. A table saved by Excel never looks like this. Open the "
        "table in Excel, save it as a new .xlsx (or 'CSV UTF-8') file and upload that file."
    )


def _choose_sheet(workbook: Any, sheet: str | None) -> tuple[Any, list[str]]:
    """The requested worksheet, else the first visible one with data; notes on hidden and other sheets."""
    worksheets = list(workbook.worksheets)
    if not worksheets:
        raise TableError("The workbook has no worksheets.")
    hidden = [ws for ws in worksheets if ws.sheet_state != "visible"]
    if sheet is not None:
        wanted = " ".join(sheet.split()).casefold()
        chosen = next((ws for ws in worksheets if ws.title == sheet), None) or next(
            (ws for ws in worksheets if " ".join(ws.title.split()).casefold() == wanted), None
        )
        if chosen is None:
            raise TableError(
                f"The workbook has no sheet named '{sheet}'. Its sheets are: {_names(worksheets, limit=50)}."
            )
        if chosen in hidden:
            return chosen, [f"sheet '{chosen.title}' is hidden in Excel; it was read because it was chosen"]
        return chosen, []
    visible = [ws for ws in worksheets if ws.sheet_state == "visible"]
    chosen = next((ws for ws in visible if _sheet_has_data(ws)), None)
    if chosen is None:
        with_data = [ws for ws in hidden if _sheet_has_data(ws)]
        if with_data:
            raise TableError(
                f"The only data in this workbook is on the hidden sheet{_s(len(with_data))} {_names(with_data)}. "
                "In Excel, right-click a sheet tab, choose Unhide, then save and upload again (or choose the "
                "sheet by name)."
            )
        raise TableError("The workbook is empty: no sheet has any data.")
    notes = []
    if hidden:
        notes.append(f"ignored hidden sheet{_s(len(hidden))} {_names(hidden)}")
    others = [ws for ws in visible[visible.index(chosen) + 1 :] if _sheet_has_data(ws)]
    if others:
        notes.append(
            f"read sheet '{chosen.title}'; the sheet{_s(len(others))} {_names(others)} also "
            f"{'has' if len(others) == 1 else 'have'} data and {'was' if len(others) == 1 else 'were'} not read "
            "(choose a sheet by name to read another one)"
        )
    return chosen, notes


def _names(worksheets: Sequence[Any], limit: int = LIST_LIMIT) -> str:
    return ", ".join(f"'{ws.title}'" for ws in worksheets[:limit]) + _more(len(worksheets), limit)


def _sheet_has_data(worksheet: Any) -> bool:
    worksheet.reset_dimensions()  # declared dimensions may be huge or wrong; read only the cells present
    return any(
        value is not None and not (isinstance(value, str) and not value.strip())
        for row in worksheet.iter_rows(values_only=True)
        for value in row
    )


def _read_sheet(
    worksheet: Any, max_cells: int, max_columns: int
) -> tuple[list[_Row], list[tuple[str, str]], list[tuple[int, str, str]]]:
    """Rows of cell texts; formulas (reference, text); dates (row, reference, ISO text)."""
    from openpyxl.cell.read_only import EMPTY_CELL

    worksheet.reset_dimensions()
    rows: list[_Row] = []
    formulas: list[tuple[str, str]] = []
    dates: list[tuple[int, str, str]] = []
    cells = 0
    for position, row in enumerate(worksheet.iter_rows(), start=1):
        width = len(row)
        while width and _blank_value(row[width - 1].value):
            width -= 1
        if not width:
            continue
        number = next((cell.row for cell in row if cell is not EMPTY_CELL), position)
        if width > max_columns:
            raise TableError(
                f"Row {number:,} of sheet '{worksheet.title}' has {width:,} columns; the limit is {max_columns:,}."
            )
        cells += width
        if cells > max_cells:
            raise TableError(_too_many_cells(max_cells))
        texts = []
        for index in range(width):
            cell = row[index]
            text, kind = _cell_text(cell)
            texts.append(text)
            if kind == "formula":
                formulas.append((f"{_letter(index + 1)}{number}", text))
            elif kind == "date":
                dates.append((number, f"{_letter(index + 1)}{number}", text))
        rows.append(_Row(number, texts, width))
    return rows, formulas, dates


def _blank_value(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_text(cell: Any) -> tuple[str, str]:
    """A cell's text and kind ("", "formula" or "date"), as the user sees it in Excel."""
    value = cell.value
    if value is None:
        return "", ""
    if cell.data_type == "f":
        text = getattr(value, "text", None) or str(value)
        return (text if text.startswith("=") else f"={text}"), "formula"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), ""
    if isinstance(value, int | float):
        number_format = cell.number_format or ""
        if "%" in _QUOTED_IN_FORMAT.sub("", number_format):
            return _plain(_decimal(value) * 100) + "%", ""
        if "%" in number_format:  # a literal % in quotes: shown after the number, not scaled
            return _number_text(value) + "%", ""
        return _number_text(value), ""
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat(), "date"
        return value.isoformat(timespec="seconds"), "date"
    if isinstance(value, date | time):
        return value.isoformat(), "date"
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}", "date"
    return str(value), ""


def _decimal(value: int | float) -> Decimal:
    """The number as Excel shows it: at most 15 significant digits (no binary noise like 0.30000000000000004)."""
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(f"{value:.15g}")


def _number_text(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return repr(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return _plain(_decimal(value))


def _plain(number: Decimal) -> str:
    """Decimal text without exponent or trailing zeros: 45.500 → "45.5", 1E+2 → "100"."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


# ------------------------------------------------------------------------------------ the table


def _build_table(
    rows: list[_Row],
    *,
    source: str,
    unit: str,
    subject: str,
    header_rows: int | None,
    skip_rows: int | None,
    delimiter: str | None,
    notes: list[str],
) -> tuple[InputTable, set[int]]:
    """Find the header, join multi-row headers, drop empty columns, check and pad rows.

    ``unit`` is "line" (CSV, where rows longer than the header are errors and shorter ones are padded and
    reported) or "row" (spreadsheets). Returns the table and the source numbers of its header and data rows.
    """
    if skip_rows:
        rows = [row for row in rows if row.number > skip_rows]
    if not rows:
        if skip_rows:
            raise TableError(f"{subject} has no data after the first {skip_rows:,} {unit}s that were skipped.")
        raise TableError("The file is empty." if unit == "line" else f"{subject} is empty.")
    probe = rows[: HEADER_SEARCH_ROWS + MAX_AUTO_HEADER_ROWS + 1]  # the header is looked for among these
    filled = [{index for index, cell in enumerate(row.cells) if cell.strip()} for row in probe]
    numeric = [any(_is_data_number(cell) for cell in row.cells) for row in probe]
    first_column = min(min(columns) for columns in filled)

    recognised = True
    if skip_rows is not None:
        start = 0
        count = header_rows if header_rows is not None else len(_header_block(0, probe, filled, numeric, first_column))
    else:
        start, count, recognised = _detect_header(probe, filled, numeric, first_column)
        if header_rows == 0:
            start, count, recognised = 0, 0, True
        elif header_rows is not None:
            start, count, recognised = max(0, start + count - header_rows), header_rows, True
    if start + count > len(rows):
        raise TableError(
            f"{subject} has {len(rows):,} non-empty {unit}{_s(len(rows))}, fewer than the {count:,} header "
            f"{unit}{_s(count)} asked for."
        )
    titles, header_block, data = rows[:start], rows[start : start + count], rows[start + count :]

    warnings_out = list(notes)
    if titles and skip_rows is None:
        warnings_out.append(
            f"skipped {len(titles)} title {unit}{_s(len(titles))} above the header "
            f"({unit}{_s(len(titles))} {_numbers(row.number for row in titles)})"
        )
    if not recognised:
        warnings_out.append(
            f"the header could not be recognised with certainty; {unit} {header_block[0].number:,} was used as the "
            f"header (set the number of header {unit}s or of {unit}s to skip if this is wrong)"
        )

    header_width = max((_trimmed_len(row.cells) for row in header_block), default=0)
    data_width = max((_trimmed_len(row.cells) for row in data), default=0)
    width = max(header_width, data_width)
    if unit == "line" and header_block:
        _check_csv_widths(data, header_block, header_width, delimiter, warnings_out)
        width = header_width

    header_cells = [_padded(row.cells, width) for row in header_block]
    data_cells = [_padded(row.cells, width) for row in data]
    keep = [
        index
        for index in range(width)
        if any(cells[index] for cells in header_cells) or any(cells[index] for cells in data_cells)
    ]
    letters = [_letter(index + 1) for index in range(width)]
    names = _join_header(header_cells, width) if header_block else letters
    header = [names[index] for index in keep]
    table_letters = [letters[index] for index in keep]
    if not data:
        shown = ", ".join(name for name in header[:6] if name) + (", …" if len(header) > 6 else "")
        raise TableError(f"{subject} has a header ({shown}) but no data {unit}s.")

    unnamed = [letter for name, letter in zip(header, table_letters, strict=True) if not name]
    if unnamed:
        warnings_out.append(f"column{_s(len(unnamed))} {', '.join(unnamed)} {_has(unnamed)} values but no header")
    seen: dict[str, str] = {}
    for name, letter in zip(header, table_letters, strict=True):
        if name and name in seen:
            warnings_out.append(f"columns {seen[name]} and {letter} have the same header '{name}'")
        seen.setdefault(name, letter)

    table = InputTable(
        header=header,
        rows=[[cells[index] for index in keep] for cells in data_cells],
        row_numbers=[row.number for row in data],
        column_letters=table_letters,
        source=source,
        warnings=warnings_out,
    )
    return table, {row.number for row in header_block} | set(table.row_numbers)


def _check_csv_widths(
    data: list[_Row], header_block: list[_Row], header_width: int, delimiter: str | None, notes: list[str]
) -> None:
    """Refuse lines with more cells than the header; report lines with fewer (they are padded with blanks)."""
    header_line = header_block[-1].number
    for row in data:
        trimmed = row.cells[: _trimmed_len(row.cells)]
        if len(trimmed) > header_width:
            name = _DELIMITER_NAMES.get(delimiter or ",", "delimiter")
            hint = " (for example a decimal comma, as in 45,5)" if delimiter == "," else ""
            raise TableError(
                f"Line {row.number:,} has {len(trimmed):,} cells but the header (line {header_line:,}) has "
                f"{header_width:,} columns; the extra value is '{_clip(trimmed[header_width:])}'. A value probably "
                f"contains the {name} that separates the cells{hint}; put that value in double quotes, or give "
                "the extra column a header."
            )
    short = [row for row in data if row.raw_len < header_width]
    if short:
        shown = ", ".join(f"{row.number:,}" for row in short[:LIST_LIMIT]) + _more(len(short))
        notes.append(
            f"line{_s(len(short))} {shown} {_has(short)} fewer cells than the header ({header_width}); "
            "the missing cells were read as blank"
        )


def _detect_header(
    rows: list[_Row], filled: list[set[int]], numeric: list[bool], first_column: int
) -> tuple[int, int, bool]:
    """(index of the first header row, number of header rows, whether the header was recognised).

    The header is the first row (among the first few) with at least two cells and no data numbers whose
    columns cover those of the next row; rows below it that are empty in the first column and hold no
    data numbers continue it (merged, multi-row headers). Rows above it are title rows.
    """
    columns = len(set().union(*filled))
    need = min(2, columns)
    for index in range(min(len(rows), HEADER_SEARCH_ROWS)):
        if len(filled[index]) < need or numeric[index]:
            continue
        block = _header_block(index, rows, filled, numeric, first_column)
        after = index + len(block)
        covered = set().union(*(filled[k] for k in range(index, after)))
        if after >= len(rows):  # nothing below: not a header with data (an only-header file goes to the fallback)
            break
        if filled[after] <= covered:
            return index, len(block), True
    wide = max(need, math.ceil(columns / 2))
    candidates = range(min(len(rows), HEADER_SEARCH_ROWS))
    index = next((k for k in candidates if len(filled[k]) >= wide), None)
    if index is None:
        index = next((k for k in candidates if len(filled[k]) >= need), 0)
    return index, len(_header_block(index, rows, filled, numeric, first_column)), False


def _header_block(
    start: int, rows: list[_Row], filled: list[set[int]], numeric: list[bool], first_column: int
) -> list[int]:
    block = [start]
    while len(block) < MAX_AUTO_HEADER_ROWS and block[-1] + 1 < len(rows):
        following = block[-1] + 1
        if (
            rows[following].number != rows[block[-1]].number + 1
            or numeric[following]
            or first_column in filled[following]
        ):
            break
        block.append(following)
    return block


def _join_header(header_cells: list[list[str]], width: int) -> list[str]:
    """Column names from header rows: upper rows forward-filled from the left (merged cells), joined with " / ".

    An empty cell of an upper row takes the text on its left only if a lower header row has text below it,
    and never across the start of a group of a row above (so "2022" does not spill into "2023"'s group).
    """
    parts = [[" ".join(cell.split()) for cell in cells] for cells in header_cells]
    original = [[bool(text) for text in level] for level in parts]
    for level in range(len(parts) - 1):
        current = ""
        for index in range(width):
            if original[level][index]:
                current = parts[level][index]
            elif any(original[upper][index] for upper in range(level)):
                current = ""
            elif current and any(original[lower][index] for lower in range(level + 1, len(parts))):
                parts[level][index] = current
    names = []
    for index in range(width):
        joined: list[str] = []
        for level in parts:
            text = level[index]
            if text and (not joined or joined[-1] != text):
                joined.append(text)
        names.append(" / ".join(joined))
    return names


def _ascii_digits(text: str) -> str:
    """Digits of any script (Devanagari ४, Bengali ৪…) as ASCII digits."""
    return "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text)


def _is_data_number(text: str) -> bool:
    """A number that looks like a data value (not a year such as 2023): 45, 45.5, "45%", "1.234,5", "४५"."""
    stripped = text.strip()
    if not stripped or _YEAR.fullmatch(_ascii_digits(stripped)):
        return False
    return _NUMBER.fullmatch(stripped) is not None


def _trimmed_len(cells: Sequence[str]) -> int:
    width = len(cells)
    while width and not cells[width - 1].strip():
        width -= 1
    return width


def _padded(cells: list[str], width: int) -> list[str]:
    """Exactly ``width`` cells; cells holding only white space become "" (blank)."""
    return [cell if cell.strip() else "" for cell in cells[:width]] + [""] * (width - len(cells))


def _letter(column: int) -> str:
    """Spreadsheet column letter of a 1-based column number: 1 → A, 27 → AA."""
    letters = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _numbers(numbers: Iterable[int]) -> str:
    values = list(numbers)
    if len(values) > 1 and values[-1] - values[0] == len(values) - 1:
        return f"{values[0]:,}–{values[-1]:,}"
    return ", ".join(f"{value:,}" for value in values[:LIST_LIMIT]) + _more(len(values))


def _clip(cells: list[str]) -> str:
    text = next((cell for cell in cells if cell.strip()), "")
    return text if len(text) <= 40 else text[:37] + "…"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _has(items: Sequence[object]) -> str:
    return "has" if len(items) == 1 else "have"


def _more(count: int, limit: int = LIST_LIMIT) -> str:
    return f" and {count - limit:,} more" if count > limit else ""


def read_table_with_hints(data: bytes, filename: str, hints: Input | None) -> InputTable:
    """:func:`read_table` with a mapping spec's ``input`` hints (sheet, header rows, rows to skip)."""
    return read_table(
        data,
        filename or "upload",
        sheet=hints.sheet if hints else None,
        header_rows=hints.header_rows if hints else None,
        skip_rows=hints.skip_rows if hints else None,
    )
