"""Code lookups with 'did you mean' hints drawn from codelist ids and names."""

from __future__ import annotations

import difflib
import unicodedata

from exchange.structures.model import Codelist


def _fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a label."""
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


class CodeIndex:
    """The valid codes of one codelist, with a suggestion helper for invalid values."""

    def __init__(self, codelist: Codelist) -> None:
        self.ref = codelist.ref
        self.codes: frozenset[str] = frozenset(item.id for item in codelist.items)
        self._names: dict[str, str] = {}
        for item in codelist.items:
            for name in item.name.values():
                self._names.setdefault(_fold(name), item.id)
            self._names.setdefault(_fold(item.id), item.id)
        self._ids = sorted(self.codes)

    def __contains__(self, code: str) -> bool:
        return code in self.codes

    def suggest(self, value: str, limit: int = 3) -> list[str]:
        """Closest valid codes: exact label or case-insensitive id first, then fuzzy id/name matches."""
        folded = _fold(value)
        found: list[str] = []
        if folded in self._names:
            found.append(self._names[folded])
        found += difflib.get_close_matches(value, self._ids, n=limit, cutoff=0.6)
        found += [self._names[n] for n in difflib.get_close_matches(folded, list(self._names), n=limit, cutoff=0.75)]
        return list(dict.fromkeys(found))[:limit]

    def hint(self, value: str) -> str:
        suggestions = self.suggest(value)
        if suggestions:
            return f"did you mean {' or '.join(suggestions)}? (codes of {self.ref})"
        return f"use a code of {self.ref} ({len(self.codes)} codes)"
