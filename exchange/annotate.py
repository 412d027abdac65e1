"""An annotated copy of an uploaded table: the user's own rows plus a column saying what is wrong.

Offered for CSV/XLSX tables (mapped by a spec) and SDMX-CSV files. Cell text that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is neutralised with a
leading apostrophe, so opening the copy never executes anything.
"""

from __future__ import annotations

import csv
import io
import json
import re

from openpyxl import Workbook

from mappings.readers import read_table_with_hints
from mappings.spec import load_spec
from mappings.table import InputTable

PROBLEMS_COLUMN = "Problems (Voices Exchange)"
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?$")


def neutralise(text: str) -> str:
    """Make formula-like text inert (numbers such as -5 are left alone)."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(text):
        return "'" + text
    return text


def annotated_rows(raw: bytes, filename: str, spec_text: str | None, report: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the source table with a problems column; rows without problems get an empty cell."""
    table = read_table_with_hints(raw, filename, load_spec(spec_text).input if spec_text else None)
    messages = _messages_by_row(table, report, sdmx_csv=spec_text is None)
    header = [neutralise(h) for h in table.header] + [PROBLEMS_COLUMN]
    rows = [
        [neutralise(cell) for cell in row] + ["; ".join(messages.get(number, []))]
        for row, number in zip(table.rows, table.row_numbers, strict=True)
    ]
    return header, rows


def _messages_by_row(table: InputTable, report: dict, sdmx_csv: bool) -> dict[int, list[str]]:
    """Problem texts keyed by the source row number they point at."""
    by_row: dict[int, list[str]] = {}
    for problem in report.get("problems", []):
        location = problem.get("location", {})
        # SDMX-CSV readers give the file line; mapped tables give the source row number.
        number = location.get("line") if sdmx_csv else location.get("row")
        if number is None:
            continue
        text = f"[{problem.get('rule')}] {problem.get('message')}"
        if problem.get("hint"):
            text += f" — {problem['hint']}"
        by_row.setdefault(number, []).append(text)
    return by_row


def to_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Annotated")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_of(stored: str) -> dict:
    """The report saved with an upload record."""
    return json.loads(stored or "{}")
