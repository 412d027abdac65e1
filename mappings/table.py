"""A coalition's input table, as read from CSV or XLSX, before any mapping.

Cells are kept as text exactly as the user typed them (after decoding), with their spreadsheet position,
so that every validation problem can point at "row 12, column C (Sex)" of the user's own file.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class TableError(ValueError):
    """The file cannot be read as a table (encoding, format, size, unsafe content). Nothing is mapped."""


@dataclass(slots=True)
class InputTable:
    """A rectangular table of text cells.

    ``header`` holds the column names (merged/multi-row headers already joined with " / ");
    ``rows`` the data rows; ``row_numbers[i]`` is the 1-based row number of ``rows[i]`` in the source
    file (spreadsheet row or CSV line), and ``column_letters[j]`` the spreadsheet column letter (A, B, …)
    of column j, so locations can be reported as the user sees them.
    """

    header: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    column_letters: list[str]
    source: str = ""
    """File name (and sheet name for spreadsheets)."""
    warnings: list[str] = field(default_factory=list)
    """Things the reader noticed and handled (e.g. 'decoded as Latin-1', 'skipped 2 title rows')."""

    def column(self, name: str) -> int | None:
        """Index of a column by its header text (exact, then case- and space-insensitive)."""
        if name in self.header:
            return self.header.index(name)
        folded = " ".join(name.casefold().split())
        for index, text in enumerate(self.header):
            if " ".join(text.casefold().split()) == folded:
                return index
        return None
