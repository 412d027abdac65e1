"""Reading uploaded CSV and XLSX files into InputTables (mappings/readers.py): messy files and refusals."""

from __future__ import annotations

import io
import random
import re
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from mappings import readers
from mappings.readers import read_table
from mappings.table import InputTable, TableError

WINDOWS_1252 = (
    "decoded as Windows-1252 (Latin-1) because the file is not UTF-8; check that accented letters (é, ñ) "
    "look right, or save the file from Excel as 'CSV UTF-8'"
)
SAVE_AS = "Open it in Excel and save it as an Excel Workbook (.xlsx) or as 'CSV UTF-8', then upload that file."


def csv_table(data: bytes, **options: object) -> InputTable:
    return read_table(data, "kenya.csv", **options)  # type: ignore[arg-type]


def refusal(data: bytes, filename: str = "upload.csv", **options: object) -> str:
    with pytest.raises(TableError) as caught:
        read_table(data, filename, **options)  # type: ignore[arg-type]
    return str(caught.value)


def xlsx_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes], *, level: int = 6) -> bytes:
    """The archive with some members replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename not in replace:
                target.writestr(member.filename, source.read(member), compresslevel=level)
        for name, content in replace.items():
            target.writestr(name, content, compresslevel=level)
    return out.getvalue()


def sheet_xml(rows: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def simple_workbook() -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(["County", "Value"])
    sheet.append(["Nairobi", 12])
    return workbook


# ---------------------------------------------------------------------------------------------- CSV


def test_utf8_csv_keeps_cell_text_blanks_and_positions() -> None:
    table = csv_table(b"County,Group,Value\nNairobi,Watu wenye ulemavu,45%\nKisumu,Vijana,\n")
    assert table.header == ["County", "Group", "Value"]
    assert table.rows == [["Nairobi", "Watu wenye ulemavu", "45%"], ["Kisumu", "Vijana", ""]]
    assert table.row_numbers == [2, 3]
    assert table.column_letters == ["A", "B", "C"]
    assert table.source == "kenya.csv"
    assert table.warnings == []


def test_latin1_csv_is_decoded_as_windows_1252_with_a_warning() -> None:
    data = "Región;Sexo;Valor\nCañar;Mujeres;12,5\nTomé;Niños;\n".encode("cp1252")
    table = csv_table(data)
    assert table.header == ["Región", "Sexo", "Valor"]
    assert table.rows == [["Cañar", "Mujeres", "12,5"], ["Tomé", "Niños", ""]]
    assert table.warnings == [WINDOWS_1252]


def test_windows_1252_only_bytes_are_decoded() -> None:
    table = csv_table("Group,Note\nDalit,“scorecard” – 2023 €\n".encode("cp1252"))
    assert table.rows == [["Dalit", "“scorecard” – 2023 €"]]
    assert table.warnings == [WINDOWS_1252]


def test_utf8_bom_is_removed_from_the_first_header() -> None:
    table = csv_table("\ufeffजिल्ला,समूह,मान\nकाठमाडौं,दलित,४५\n".encode())
    assert table.header == ["जिल्ला", "समूह", "मान"]
    assert table.rows == [["काठमाडौं", "दलित", "४५"]]
    assert table.column("जिल्ला") == 0
    assert table.warnings == []


def test_semicolons_and_decimal_commas() -> None:
    data = b"County;Group;Value\nNairobi;Youth;45,5\nMombasa;Youth;1.234,5\nKisumu;Women;7\n"
    table = csv_table(data)
    assert table.header == ["County", "Group", "Value"]
    assert table.rows == [["Nairobi", "Youth", "45,5"], ["Mombasa", "Youth", "1.234,5"], ["Kisumu", "Women", "7"]]


def test_semicolons_when_every_value_has_a_decimal_comma() -> None:
    table = csv_table(b"County;Value\nNairobi;45,5\nMombasa;12,25\nKisumu;7,0\n")
    assert table.header == ["County", "Value"]
    assert [row[1] for row in table.rows] == ["45,5", "12,25", "7,0"]


def test_quoted_decimal_commas_in_a_comma_separated_file() -> None:
    table = csv_table(b'County,Value\nNairobi,"45,5"\nMombasa,"1.234,5"\n')
    assert table.rows == [["Nairobi", "45,5"], ["Mombasa", "1.234,5"]]


@pytest.mark.parametrize("delimiter", ["\t", "|"])
def test_tab_and_bar_delimiters(delimiter: str) -> None:
    data = delimiter.join(["Ward", "Group", "Score"]) + "\n" + delimiter.join(["Ward 4", "Madhesi, women", "3"])
    table = csv_table(data.encode())
    assert table.header == ["Ward", "Group", "Score"]
    assert table.rows == [["Ward 4", "Madhesi, women", "3"]]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_byte_order_mark(codec: str) -> None:
    text = "জেলা\tগোষ্ঠী\tমান\r\nঢাকা\tদলিত\t৪৫%\r\n"
    data = text.encode(codec) if codec == "utf-16" else b"\xfe\xff" + text.encode(codec)
    table = csv_table(data)
    assert table.header == ["জেলা", "গোষ্ঠী", "মান"]
    assert table.rows == [["ঢাকা", "দলিত", "৪৫%"]]
    assert table.warnings == []


def test_utf16_without_byte_order_mark() -> None:
    table = csv_table("County,Value\nNairobi,12\n".encode("utf-16-le"))
    assert table.rows == [["Nairobi", "12"]]
    assert table.warnings == ["decoded as UTF-16 (the file has no byte-order mark)"]


def test_mixed_encodings_are_refused_naming_the_first_bad_line() -> None:
    data = "County,Group,Value\nMuranga,Wazee,3\nNyeri,Jeunes élèves,4\n".encode() + "Kisii,Niños,5\n".encode("cp1252")
    assert refusal(data) == (
        "The file mixes text encodings: line 4 is not UTF-8, while line 3 is UTF-8. This happens when rows are "
        "pasted together from different files. Open the file in Excel or a text editor, check the accented letters "
        "on line 4, and save it as 'CSV UTF-8'."
    )


def test_utf8_bom_with_latin1_bytes_is_refused_as_mixed() -> None:
    data = b"\xef\xbb\xbfCounty,Value\n" + "Kisii,Niños\n".encode("cp1252")
    assert refusal(data).startswith(
        "The file mixes text encodings: line 2 is not UTF-8, while the file starts with a UTF-8 byte-order mark."
    )


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"  \r\n\r\n", b",,,\n;;\n"])
def test_empty_files(data: bytes) -> None:
    assert refusal(data) == "The file is empty."


def test_only_a_header() -> None:
    assert refusal(b"County,Group,Value\r\n") == "The file has a header (County, Group, Value) but no data lines."


def test_short_rows_are_padded_and_reported() -> None:
    table = csv_table(b"County,Group,Value\nNairobi,Youth\nKisumu,Women,4\nMombasa\n")
    assert table.rows == [["Nairobi", "Youth", ""], ["Kisumu", "Women", "4"], ["Mombasa", "", ""]]
    assert table.warnings == ["lines 2, 4 have fewer cells than the header (3); the missing cells were read as blank"]


def test_longer_rows_are_refused_naming_the_line() -> None:
    assert refusal(b"County,Value\nNairobi,12\nMombasa,45,5\n") == (
        "Line 3 has 3 cells but the header (line 1) has 2 columns; the extra value is '5'. A value probably contains "
        "the comma that separates the cells (for example a decimal comma, as in 45,5); put that value in double "
        "quotes, or give the extra column a header."
    )


def test_trailing_delimiters_do_not_make_a_column() -> None:
    table = csv_table(b"County;Group;Value;\nNairobi;Youth;12;\nKisumu;Women;;\n")
    assert table.header == ["County", "Group", "Value"]
    assert table.rows == [["Nairobi", "Youth", "12"], ["Kisumu", "Women", ""]]
    assert table.warnings == []


def test_quoted_cells_with_line_breaks_keep_source_line_numbers() -> None:
    data = b'County,Comment,Value\nNairobi,"collected by\nphone",12\n\nKisumu,"",\n'
    table = csv_table(data)
    assert table.rows == [["Nairobi", "collected by\nphone", "12"], ["Kisumu", "", ""]]
    assert table.row_numbers == [2, 5]


def test_unclosed_quote_is_refused() -> None:
    assert refusal(b'County,Value\nNairobi,"12\nKisumu,4\n') == (
        'A quote mark (") opened on line 2 is never closed, so the rest of the file would be read as one cell. '
        "Remove the stray quote mark or close it, then upload again."
    )


def test_title_lines_of_a_csv_saved_from_excel_are_skipped() -> None:
    data = b"Kenya youth survey 2023,,,\n,,,\nCounty,Group,Value,\nNairobi,Youth,12,\n"
    table = csv_table(data)
    assert table.header == ["County", "Group", "Value"]
    assert table.row_numbers == [4]
    assert table.warnings == ["skipped 1 title line above the header (line 1)"]


def test_header_rows_and_skip_rows_override_detection() -> None:
    data = b"Scorecard,Ward 4\nIndicator,Score\nWater,3\n"
    table = csv_table(data, skip_rows=1)
    assert table.header == ["Indicator", "Score"]
    assert table.rows == [["Water", "3"]]
    assert table.warnings == []
    no_header = csv_table(b"Water,3\nRoads,4\n", header_rows=0)
    assert no_header.header == ["A", "B"]
    assert no_header.rows == [["Water", "3"], ["Roads", "4"]]
    assert no_header.row_numbers == [1, 2]


def test_header_detection_cases() -> None:
    titled = csv_table(b"Scorecard,,,Date: July 2023\nWard,Group,Community score,Official score\nWard 4,Dalit,3,4\n")
    assert titled.header == ["Ward", "Group", "Community score", "Official score"]
    assert titled.warnings == ["skipped 1 title line above the header (line 1)"]
    units = csv_table(b"Indicator,Value,Value\n,(%),(number)\nWater,45,12\n")
    assert units.header == ["Indicator", "Value / (%)", "Value / (number)"]
    assert units.row_numbers == [3]
    not_collected_first = csv_table(b"Region,Sex,Value\nNairobi,F,n/a\nNairobi,M,45\n")
    assert not_collected_first.header == ["Region", "Sex", "Value"]
    assert not_collected_first.row_numbers == [2, 3]
    likert = csv_table(b"Indicator,1,2,3\nWater,3,10,2\n", sheet="Data")
    assert likert.header == ["Indicator", "1", "2", "3"]
    assert likert.warnings == [
        "the header could not be recognised with certainty; line 1 was used as the header (set the number of header "
        "lines or of lines to skip if this is wrong)",
        "the sheet name 'Data' was ignored: a CSV file has no sheets",
    ]


def test_text_after_a_closing_quote_is_read_loosely() -> None:
    table = csv_table(b'County,Value\nNairobi,"12" approx\nKisumu,3\n')
    assert table.rows == [["Nairobi", "12 approx"], ["Kisumu", "3"]]
    assert table.warnings == ["line 2 has text after a closing quote mark; the quote marks were dropped"]


def test_a_line_with_100000_columns_is_refused() -> None:
    lines = ["County,Value"] + [f"C{n},{n}" for n in range(15)] + [",".join(["1"] * 100_000)]
    assert refusal("\n".join(lines).encode()) == "Line 17 has 100,000 columns; the limit is 1,000."


def test_too_many_cells() -> None:
    data = b"County,Value\n" + b"Nairobi,1\n" * 20
    assert refusal(data, max_cells=30) == (
        "The table has more than 30 cells, the limit. Split it into smaller files and upload each."
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            bytes(range(256)) * 20,
            f"The file is not a text (CSV) file or an Excel workbook: it contains binary data. {SAVE_AS}",
        ),
        (
            b"County,Value\nNairobi,1\x00\x00\x01\n",
            f"The file is not a text (CSV) file or an Excel workbook: it contains binary data. {SAVE_AS}",
        ),
        (
            b"%PDF-1.7\n%\xe2\xe3",
            "This file is a PDF document, not a table. Copy the table from the PDF into Excel, check every number "
            "after copying, save it as .xlsx or 'CSV UTF-8' and upload that file.",
        ),
        (
            b"<html><body><table><tr><td>1</td></tr></table></body></html>",
            "This file is a web page (HTML), not a CSV table; some systems save web pages with an .xls or .csv name. "
            + SAVE_AS,
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
            f"This is an old-format Excel 97-2003 workbook (.xls), which cannot be read. {SAVE_AS}",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100) + "EncryptedPackage".encode("utf-16-le"),
            "This workbook is protected with a password, so it cannot be read. Remove the password in Excel "
            "(File → Info → Protect Workbook), save it as .xlsx and upload it again.",
        ),
    ],
    ids=["garbage", "nul-bytes", "pdf", "html", "xls", "encrypted"],
)
def test_files_that_are_not_tables(data: bytes, message: str) -> None:
    assert refusal(data) == message


# --------------------------------------------------------------------------------------------- XLSX


def scorecard_workbook() -> Workbook:
    """A title row, a blank row, a two-row merged header and data with percentages, dates and blanks."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Kenya 16.3"
    sheet["A1"] = "Access to justice, persons with disabilities (SDG 16.3), 2022-2023"
    sheet.append([])
    sheet.append(["County", "Group", 2022, None, 2023, None])
    sheet.append([None, None, "Female", "Male", "Female", "Male"])
    for cells in ("A3:A4", "B3:B4", "C3:D3", "E3:F3"):
        sheet.merge_cells(cells)
    sheet.append(["Nairobi", "Watu wenye ulemavu", 0.455, 0.5, None, 15.0])
    sheet.append([])
    sheet.append(["Kisumu", "Vijana", 0.3, True, 12, 0.1 + 0.2])
    for reference in ("C5", "D5", "C7"):
        sheet[reference].number_format = "0.0%"
    return workbook


def test_title_row_and_merged_two_row_header() -> None:
    table = read_table(xlsx_bytes(scorecard_workbook()), "kenya.xlsx")
    assert table.source == "kenya.xlsx!Kenya 16.3"
    assert table.header == ["County", "Group", "2022 / Female", "2022 / Male", "2023 / Female", "2023 / Male"]
    assert table.rows == [
        ["Nairobi", "Watu wenye ulemavu", "45.5%", "50%", "", "15"],
        ["Kisumu", "Vijana", "30%", "TRUE", "12", "0.3"],
    ]
    assert table.row_numbers == [5, 7]
    assert table.column_letters == ["A", "B", "C", "D", "E", "F"]
    assert table.warnings == ["skipped 1 title row above the header (row 1)"]
    assert table.column("2022 / female") == 2


def test_header_rows_and_skip_rows_on_a_workbook() -> None:
    data = xlsx_bytes(scorecard_workbook())
    assert read_table(data, "k.xlsx", skip_rows=3).header[2:4] == ["Female", "Male"]
    one_row = read_table(data, "k.xlsx", skip_rows=2, header_rows=1)
    assert one_row.header == ["County", "Group", "2022", "", "2023", ""]
    assert one_row.row_numbers == [4, 5, 7]


def test_numbers_booleans_and_percent_formats() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Measure", "Value"])
    values = [15.0, 0.455, 1e-05, 2.5e20, -3, False]
    for value in values:
        sheet.append(["m", value])
    sheet.append(["share", 0.125])
    sheet["B8"].number_format = "0.00%"
    sheet.append(["literal", 45.5])
    sheet["B9"].number_format = '0.0"%"'
    table = read_table(xlsx_bytes(workbook), "n.xlsx")
    assert [row[1] for row in table.rows] == [
        "15",
        "0.455",
        "0.00001",
        "250000000000000000000",
        "-3",
        "FALSE",
        "12.5%",
        "45.5%",
    ]
    assert table.source == "n.xlsx!Sheet"


def test_dates_become_iso_text_with_a_warning_listing_the_cells() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet["A1"] = "Collected on"
    sheet["B1"] = datetime(2023, 1, 1)  # in a title row: not reported
    sheet.append([])
    sheet.append(["Ward", "Date", "Score"])
    sheet.append(["Ward 4", datetime(2023, 7, 1), 3])
    sheet.append(["Ward 5", datetime(2023, 7, 2, 14, 30), 4])
    table = read_table(xlsx_bytes(workbook), "nepal.xlsx")
    assert table.header == ["Ward", "Date", "Score"]
    assert table.rows == [["Ward 4", "2023-07-01", "3"], ["Ward 5", "2023-07-02T14:30:00", "4"]]
    assert table.warnings == [
        "skipped 1 title row above the header (row 1)",
        "dates converted to ISO text (YYYY-MM-DD) in cells B4 (2023-07-01), B5 (2023-07-02T14:30:00); if these "
        "should be numbers (Excel turns 1/2 or 3-4 into dates), format the cells as Text and type them again",
    ]


def test_formulas_are_refused_listing_ten_cells() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(["County", "Respondents", "Share"])
    for row in range(2, 14):
        sheet.append([f"C{row}", 100 + row, f"=B{row}/B$14*100"])
    message = refusal(xlsx_bytes(workbook), "bangladesh.xlsx")
    listed = "; ".join(f"C{row}: =B{row}/B$14*100" for row in range(2, 12))
    assert message == (
        f"Sheet 'Data' has 12 cells with formulas ({listed} and 2 more). Formulas are not calculated here. In Excel, "
        "select the table, copy it, use Paste Special → Values, then save and upload again."
    )


def test_hidden_sheets_are_ignored_and_reported() -> None:
    workbook = simple_workbook()
    lookup = workbook.create_sheet("Lookup")
    lookup["A1"] = "codes"
    lookup.sheet_state = "hidden"
    secret = workbook.create_sheet("Calc")
    secret.sheet_state = "veryHidden"
    notes = workbook.create_sheet("Notes")
    notes["B2"] = "Source: community scorecards"
    workbook.create_sheet("Empty")
    table = read_table(xlsx_bytes(workbook), "kenya.xlsx")
    assert table.source == "kenya.xlsx!Data"
    assert table.rows == [["Nairobi", "12"]]
    assert table.warnings == [
        "ignored hidden sheets 'Lookup', 'Calc'",
        "read sheet 'Data'; the sheet 'Notes' also has data and was not read (choose a sheet by name to read "
        "another one)",
    ]


def test_data_only_on_a_hidden_sheet_is_refused() -> None:
    workbook = Workbook()
    workbook.active.title = "Cover"
    data = workbook.create_sheet("Data")
    data.append(["County", "Value"])
    data.append(["Nairobi", 1])
    data.sheet_state = "hidden"
    content = xlsx_bytes(workbook)
    assert refusal(content, "k.xlsx") == (
        "The only data in this workbook is on the hidden sheet 'Data'. In Excel, right-click a sheet tab, choose "
        "Unhide, then save and upload again (or choose the sheet by name)."
    )
    chosen = read_table(content, "k.xlsx", sheet="data")
    assert chosen.source == "k.xlsx!Data"
    assert chosen.warnings == ["sheet 'Data' is hidden in Excel; it was read because it was chosen"]


def test_first_visible_sheet_with_data_and_explicit_sheets() -> None:
    workbook = Workbook()
    workbook.active.title = "Instructions"
    for name, value in (("Kenya", 1), ("Nepal", 2)):
        sheet = workbook.create_sheet(name)
        sheet.append(["County", "Value"])
        sheet.append(["X", value])
    content = xlsx_bytes(workbook)
    first = read_table(content, "k.xlsx")
    assert (first.source, first.rows) == ("k.xlsx!Kenya", [["X", "1"]])
    assert read_table(content, "k.xlsx", sheet="Nepal").rows == [["X", "2"]]
    assert refusal(content, "k.xlsx", sheet="India") == (
        "The workbook has no sheet named 'India'. Its sheets are: 'Instructions', 'Kenya', 'Nepal'."
    )


def test_empty_rows_and_columns_are_dropped_keeping_letters() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet["B3"] = "County"
    sheet["D3"] = "Value"
    sheet["F3"] = "Comment"
    sheet["B4"] = "Nairobi"
    sheet["D4"] = 4
    sheet["B6"] = "Kisumu"
    sheet["F6"] = "   "
    sheet["D6"] = " \u00a0"
    sheet["H9"] = None
    table = read_table(xlsx_bytes(workbook), "k.xlsx")
    assert table.header == ["County", "Value", "Comment"]
    assert table.column_letters == ["B", "D", "F"]
    assert table.rows == [["Nairobi", "4", ""], ["Kisumu", "", ""]]
    assert table.row_numbers == [4, 6]


def test_empty_workbook() -> None:
    assert refusal(xlsx_bytes(Workbook()), "k.xlsx") == "The workbook is empty: no sheet has any data."


def test_row_with_100000_columns_is_refused() -> None:
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>County</t></is></c><c r="B1"><v>2023</v></c></row>'
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 17))
    wide = '<row r="17">' + "".join(f"<c><v>{n}</v></c>" for n in range(100_000)) + "</row>"
    data = rezip(xlsx_bytes(simple_workbook()), {"xl/worksheets/sheet1.xml": sheet_xml(header + rows + wide)})
    assert refusal(data, "k.xlsx") == "Row 17 of sheet 'Data' has 100,000 columns; the limit is 1,000."


def test_zip_bomb_is_refused_before_parsing() -> None:
    bomb = sheet_xml("<row/>" * 5_000_000)
    data = rezip(xlsx_bytes(simple_workbook()), {"xl/worksheets/sheet1.xml": bomb}, level=9)
    assert len(data) < 300_000
    message = refusal(data, "bomb.xlsx")
    assert re.fullmatch(
        r"The workbook was refused as unsafe: its part xl/worksheets/sheet1\.xml is compressed [\d,]+ times "
        r"\(the limit is 100\)\. A table saved by Excel never looks like this\. Open the table in Excel, save it as "
        r"a new \.xlsx \(or 'CSV UTF-8'\) file and upload that file\.",
        message,
    ), message


def test_total_uncompressed_size_and_member_count_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    noise = random.Random(7).randbytes(3 * 1024 * 1024)
    data = rezip(xlsx_bytes(simple_workbook()), {"xl/media/image1.bin": noise})
    monkeypatch.setattr(readers, "MAX_XLSX_UNCOMPRESSED", 2 * 1024 * 1024)
    assert refusal(data, "k.xlsx").startswith(
        "The workbook was refused as unsafe: it unpacks to 3 MB (the limit is 2 MB)."
    )
    small = xlsx_bytes(simple_workbook())
    parts = len(zipfile.ZipFile(io.BytesIO(small)).namelist())
    monkeypatch.setattr(readers, "MAX_ZIP_MEMBERS", 5)
    assert refusal(small, "k.xlsx").startswith(
        f"The workbook was refused as unsafe: it has {parts} parts (the limit is 5)."
    )


def test_xml_entities_are_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]><worksheet/>'
    data = rezip(xlsx_bytes(simple_workbook()), {"xl/worksheets/sheet1.xml": evil})
    assert refusal(data, "k.xlsx").startswith(
        "The workbook was refused as unsafe: its part xl/worksheets/sheet1.xml declares XML entities."
    )


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_other_zip_files_are_refused() -> None:
    ods = zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
    assert refusal(ods, "k.ods") == f"This is an OpenDocument spreadsheet (.ods), which cannot be read. {SAVE_AS}"
    docx = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    assert refusal(docx, "k.docx") == (
        "This file is a Word document, not an Excel workbook or CSV table. Upload the table itself as .xlsx or "
        "'CSV UTF-8' (unpack ZIP archives first)."
    )
    assert refusal(zip_of({"kenya.csv": b"a,b\n1,2\n"}), "k.zip").startswith("This file is a ZIP archive, not")
    assert refusal(xlsx_bytes(simple_workbook())[:500], "cut.xlsx") == (
        f"The file is a damaged ZIP archive or workbook. {SAVE_AS}"
    )


def test_workbook_that_openpyxl_cannot_open() -> None:
    data = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"not xml"})
    assert refusal(data, "k.xlsx") == (
        "The workbook could not be opened: it is damaged or not a real .xlsx file. Open it in Excel, save it again as "
        "an Excel Workbook (.xlsx) and upload that file."
    )
