"""Suggestions for mapping specs: which component a column is, which code a label is, and drafted specs.

Matching ignores case, accents on Latin letters, punctuation and word order, and looks at code ids,
code names in every language of the codelist, and annotations that identify codes (``Indicator`` and
``IndicatorCode`` on SDG series, so "3.2.1" finds SH_DYN_MORT; ``NATIONAL_CODE`` on sub-national areas).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

from exchange.structures.model import Codelist, Component, Dataflow, DataStructure, Item, Localised, Ref
from exchange.structures.registry import Registry, UnknownArtefact
from exchange.validation.codes import CodeIndex
from mappings.spec import (
    SPEC_VERSION,
    TODO,
    Column,
    MappingSpec,
    Melt,
    Missing,
    NumberError,
    Transform,
    parse_dataflow,
)
from mappings.table import InputTable

CODE_ANNOTATIONS = {"Indicator": "SDG indicator", "IndicatorCode": "indicator code", "NATIONAL_CODE": "national code"}
"""Annotation types whose text identifies a code, and how a suggestion names them."""
PERIOD = re.compile(r"\d{4}(?:-(?:Q[1-4]|S[12]|W\d{2}|\d{2}(?:-\d{2})?))?")
"""Headers and values that are SDMX time periods (2019, 2019-Q1, 2019-03, 2019-03-31…)."""
CONFIDENT = 0.9
"""Score from which a drafted spec fills in a code or component instead of leaving a TODO."""
MAX_DRAFT_LABELS = 300
"""Distinct labels of one column a drafted spec lists."""
DRAFT_SAMPLE_ROWS = 5000
"""Rows a draft looks at."""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "TIME_PERIOD": ("year", "period", "date", "time", "mwaka", "वर्ष", "বছর", "সাল", "năm"),
    "OBS_VALUE": ("value", "figure", "number", "percentage", "percent", "rate", "thamani", "मान", "মান"),
    "REF_AREA": ("country", "nchi", "देश", "দেশ"),
    "SEX": ("gender", "jinsia", "लिङ्ग", "লিঙ্গ"),
    "AGE": ("age group", "umri", "उमेर", "বয়স"),
    "SUBNATIONAL": (
        "county",
        "district",
        "province",
        "ward",
        "region",
        "municipality",
        "kaunti",
        "जिल्ला",
        "प्रदेश",
        "वडा",
        "জেলা",
        "উপজেলা",
    ),
    "POP_GROUP": ("group", "population group", "community", "kundi", "समूह", "গোষ্ঠী"),
    "SERIES": ("indicator", "kiashiria", "सूचक", "সূচক"),
    "UNIT_MEASURE": ("unit", "units"),
    "UNIT_MULT": ("multiplier", "scale"),
    "OBS_STATUS": ("status", "flag"),
    "COMMENT_OBS": ("comment", "comments", "note", "notes", "remarks", "maoni"),
    "SOURCE_DETAIL": ("source", "data source", "chanzo"),
    "SAMPLE_SIZE": ("n", "sample", "respondents", "base", "sample size"),
    "URBANISATION": ("urban or rural", "urban rural", "area type"),
    "DISABILITY_STATUS": ("disability", "ulemavu"),
    "INCOME_WEALTH_QUANTILE": ("quintile", "wealth quintile", "income quintile"),
    "EDUCATION_LEV": ("education", "elimu"),
    "LOWER_BOUND": ("lower", "lower ci", "lower limit"),
    "UPPER_BOUND": ("upper", "upper ci", "upper limit"),
    "CONF_STATUS": ("confidentiality",),
    "FREQ": ("frequency",),
}
"""Common header words (English, Swahili, Nepali, Bengali, Vietnamese) for components."""

NUMERIC_TYPES = frozenset({"Double", "Float", "Decimal", "Integer", "Long", "Short", "BigInteger", "Count"})
_SPLIT = re.compile(r"[\s\-‐–—/\\,;:()\[\]{}\"'‘’“”!?|+*&%<>=#_]+")
_INDICATOR = re.compile(r"\d{1,2}\.[0-9a-z]{1,2}(?:\.\d{1,2})?")
_NUMBER_FORMATS = (
    Transform(),
    Transform(thousands=","),
    Transform(decimal=","),
    Transform(decimal=",", thousands="."),
    Transform(decimal=",", thousands=" "),
    Transform(thousands="'"),
)


# --- text matching --------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a label.

    Accents are dropped from Latin letters only: in Devanagari or Bengali the marks are part of the letter.
    """
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char) and kept and kept[-1] < "\u0250":
            continue
        kept.append(char)
    return " ".join("".join(kept).casefold().split())


def tokens(text: str) -> tuple[str, ...]:
    """The words of a label (folded; punctuation separates words, dots inside "3.2.1" do not)."""
    return tuple(t.strip(".") for t in _SPLIT.split(fold(text)) if t.strip("."))


def match_key(text: str) -> str:
    """Key under which two labels are the same: equal words in the same order, ignoring case, accents, punctuation."""
    return " ".join(tokens(text)) or fold(text)


class _Text(NamedTuple):
    key: str
    words: tuple[str, ...]


def _text(label: str) -> _Text:
    return _Text(match_key(label), tokens(label))


@lru_cache(maxsize=65536)
def _word_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if min(len(a), len(b)) < 4:
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return ratio if ratio >= 0.8 else 0.0


def similarity(label: str, text: str) -> float:
    """How alike two labels are, 0…1: 1 when equal after folding, 0.97 for the same words in another order."""
    return _similarity(_text(label), _text(text))


def _similarity(a: _Text, b: _Text) -> float:
    if a.key == b.key:
        return 1.0
    if a.words and sorted(a.words) == sorted(b.words):
        return 0.97
    words = 0.0
    if a.words and b.words:
        matched = sum(max(_word_similarity(x, y) for y in b.words) for x in a.words)
        if matched:
            precision, recall = matched / len(a.words), min(1.0, matched / len(b.words))
            words = 2 * precision * recall / (precision + recall)
    matcher = difflib.SequenceMatcher(None, a.key, b.key)
    chars = matcher.ratio() if matcher.real_quick_ratio() > words and matcher.quick_ratio() > words else 0.0
    return round(0.95 * max(words, chars), 4)


def english(text: Localised, default: str = "") -> str:
    return text.get("en") or next(iter(text.values()), default)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A ranked suggestion: a code of a codelist, or a component of a data structure."""

    id: str
    score: float
    """0…1; 1 is an exact match."""
    name: str = ""
    reason: str = ""
    code: str | None = None
    """For components: the code the text itself stands for (a column header such as "2019" or "Female")."""

    def describe(self) -> str:
        return f"{self.id} ({self.name})" if self.name and self.name != self.id else self.id


class CodeMatcher(CodeIndex):
    """The codes of one codelist, found by id, name (any language) or identifying annotation.

    ``lookup`` only accepts unambiguous exact matches; ``rank`` (and the inherited ``suggest``/``hint``)
    give approximate ones.
    """

    def __init__(self, codelist: Codelist) -> None:
        super().__init__(codelist)
        self.items: list[Item] = list(codelist.items)
        self.names = {item.id: english(item.name, item.id) for item in self.items}
        self._ids = {}
        self._by_name: dict[str, set[str]] = defaultdict(set)
        self._annotations: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for item in self.items:
            self._ids.setdefault(fold(item.id), item.id)
            for name in item.name.values():
                self._by_name[match_key(name)].add(item.id)
            for annotation in item.annotations:
                label = CODE_ANNOTATIONS.get(annotation.type or "")
                # SDG annotations carry the value in the text, the partnership's in the title
                title = annotation.title if annotation.title != annotation.type else None
                value = title or english(annotation.text)
                for word in tokens(value) if label else ():
                    self._annotations[word].append((item.id, f"{label} {value}"))

    def lookup(self, label: str) -> str | None:
        """The code a label names unambiguously: its id (any case) or one of its names; else None."""
        text = label.strip()
        if text in self.codes:
            return text
        if fold(text) in self._ids:
            return self._ids[fold(text)]
        found = self._by_name.get(match_key(text), set())
        return next(iter(found)) if len(found) == 1 else None

    @cached_property
    def _texts(self) -> list[tuple[str, _Text, str]]:
        texts = []
        for item in self.items:
            texts.append((item.id, _text(item.id), "code id"))
            for name in dict.fromkeys(item.name.values()):
                texts.append((item.id, _text(name), f"name '{name}'"))
        return texts

    def rank(self, label: str, limit: int = 3, cutoff: float = 0.5) -> list[Candidate]:
        """The closest codes, best first (ties in codelist order)."""
        target = _text(label)
        best: dict[str, tuple[float, str]] = {}
        for code, text, reason in self._texts:
            score = _similarity(target, text)
            if score >= cutoff and score > best.get(code, (0.0, ""))[0]:
                best[code] = (score, reason)
        for word in target.words:
            for code, reason in self._annotations.get(word, []):
                score = round(CONFIDENT + 0.1 * best.get(code, (0.0, ""))[0], 4)
                if score > best.get(code, (0.0, ""))[0]:
                    best[code] = (score, reason)
        order = {item.id: i for i, item in enumerate(self.items)}
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], order[kv[0]]))
        return [Candidate(code, score, self.names[code], reason) for code, (score, reason) in ranked[:limit]]

    def suggest(self, value: str, limit: int = 3) -> list[str]:
        return [c.id for c in self.rank(value, limit)]

    def confident(self, label: str) -> str | None:
        """:meth:`lookup`, else the single candidate scoring at least :data:`CONFIDENT` (e.g. by SDG indicator)."""
        code = self.lookup(label)
        if code is None:
            ranked = [c for c in self.rank(label, limit=2) if c.score >= CONFIDENT]
            code = ranked[0].id if len(ranked) == 1 else None
        return code

    def describe(self, code: str) -> str:
        name = self.names.get(code, "")
        return f"{code} ({name})" if name and name != code else code


def suggest_codes(label: str, codelist: Codelist, limit: int = 3) -> list[Candidate]:
    """Closest codes of a codelist for a label (keep a :class:`CodeMatcher` to rank many labels)."""
    return CodeMatcher(codelist).rank(label, limit)


# --- components -----------------------------------------------------------------------------------


def find_dataflow(registry: Registry, reference: str) -> Dataflow | None:
    """The dataflow ``AGENCY:ID(VERSION)`` names (the latest version when none is given), or None."""
    try:
        agency, flow_id, version = parse_dataflow(reference)
    except ValueError:
        return None
    if version is None:
        found = registry.latest("dataflow", agency, flow_id)
    else:
        found = registry.get(Ref("dataflow", agency, flow_id, version))
    return found if isinstance(found, Dataflow) else None


class Components:
    """A data structure's components with their names, value types and (lazily built) code matchers."""

    def __init__(self, registry: Registry, dsd: DataStructure) -> None:
        self.registry = registry
        self.dsd = dsd
        self.by_id: dict[str, Component] = {c.id: c for c in dsd.components}
        self.measure = dsd.measures[0].id if dsd.measures else "OBS_VALUE"
        self.time = dsd.time_dimension.id if dsd.time_dimension else "TIME_PERIOD"
        self.dimensions = [c.id for c in dsd.dimensions]
        self._matchers: dict[str, CodeMatcher | None] = {}

    def __contains__(self, component_id: str) -> bool:
        return component_id in self.by_id

    def role(self, component_id: str) -> str:
        return self.by_id[component_id].role

    def names(self, component_id: str) -> list[str]:
        concept = self.registry.concept(self.by_id[component_id].concept)
        return list(dict.fromkeys(concept.name.values())) if concept else []

    def name(self, component_id: str) -> str:
        return next(iter(self.names(component_id)), component_id)

    def matcher(self, component_id: str) -> CodeMatcher | None:
        """The component's codes (its own representation, else its concept's), or None if not coded."""
        if component_id not in self._matchers:
            component = self.by_id[component_id]
            rep = component.representation
            if rep is None or rep.enumeration is None:
                concept = self.registry.concept(component.concept)
                rep = concept.core_representation if concept else None
            matcher = None
            if rep is not None and rep.enumeration is not None:
                try:
                    matcher = CodeMatcher(self.registry.codelist(rep.enumeration))
                except UnknownArtefact:
                    matcher = None
            self._matchers[component_id] = matcher
        return self._matchers[component_id]

    def numeric(self, component_id: str) -> bool:
        """Whether values are numbers (the measure, SAMPLE_SIZE, bounds…)."""
        component = self.by_id[component_id]
        text_format = component.representation.text_format if component.representation else None
        if component.role == "measure":
            return text_format is None or text_format.text_type in NUMERIC_TYPES
        return bool(text_format and text_format.text_type in NUMERIC_TYPES and self.matcher(component_id) is None)

    def suggest(self, header: str, values: Sequence[str] = (), limit: int = 5) -> list[Candidate]:
        """Components a column may map to, best first, from its header and (optionally) its values."""
        target = _text(header)
        distinct = [v for v in dict.fromkeys(v.strip() for v in values) if v][:200]
        ranked: list[tuple[float, int, Candidate]] = []
        for position, component in enumerate(self.dsd.components):
            cid = component.id
            texts = [cid.replace("_", " "), *self.names(cid), *SYNONYMS.get(cid, ())]
            by_header = max(_similarity(target, _text(t)) for t in texts)
            by_values, why = self._value_evidence(cid, distinct)
            score = 1 - (1 - by_header) * (1 - 0.8 * by_values)
            reason = "; ".join(r for r in (f"header ~ {self.name(cid)}" if by_header >= 0.5 else "", why) if r)
            candidate = Candidate(cid, round(score, 3), self.name(cid), reason)
            as_code = self._header_as_code(cid, header)
            if as_code is not None and score < CONFIDENT:
                candidate = Candidate(cid, CONFIDENT, self.name(cid), as_code[1], code=as_code[0])
            rank = 0 if component.role != "attribute" else 1
            ranked.append((candidate.score, -rank * 1000 - position, candidate))
        ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
        return [c for _, _, c in ranked[:limit]]

    def _header_as_code(self, component_id: str, header: str) -> tuple[str, str] | None:
        if component_id == self.time and PERIOD.fullmatch(header.strip()):
            return header.strip(), "the header is a time period"
        matcher = self.matcher(component_id) if self.role(component_id) == "dimension" else None
        code = matcher.confident(header) if matcher is not None and header.strip() else None
        return (code, f"the header is code {matcher.describe(code)}") if matcher and code else None

    def _value_evidence(self, component_id: str, values: list[str]) -> tuple[float, str]:
        if not values:
            return 0.0, ""
        if component_id == self.time:
            share = sum(bool(PERIOD.fullmatch(v)) for v in values) / len(values)
            return share, f"{share:.0%} of the values are time periods" if share else ""
        if self.numeric(component_id):
            share = sum(_looks_numeric(v) for v in values) / len(values)
            weight = 1.0 if component_id == self.measure else 0.5
            return weight * share, f"{share:.0%} of the values are numbers" if share else ""
        matcher = self.matcher(component_id)
        if matcher is None:
            return 0.0, ""
        share = sum(matcher.lookup(v) is not None for v in values) / len(values)
        return share, f"{share:.0%} of the labels are codes of {matcher.ref}" if share else ""


def suggest_components(
    header: str, registry: Registry, dsd: DataStructure, values: Sequence[str] = (), limit: int = 5
) -> list[Candidate]:
    """Ranked components for a column header (and sample values, when given)."""
    return Components(registry, dsd).suggest(header, values, limit)


def _looks_numeric(text: str) -> bool:
    return any(_reads(t, text) for t in _NUMBER_FORMATS) or any(
        _reads(Transform(percent=True, decimal=t.decimal, thousands=t.thousands), text) for t in _NUMBER_FORMATS
    )


def _reads(transform: Transform, text: str) -> bool:
    try:
        transform.parse(text)
    except NumberError:
        return False
    return True


def _number_format(values: Iterable[str]) -> Transform | None:
    """The usual number format that reads most of the values (percent when one ends in %); None for the default."""
    numbers = [v for v in values if re.search(r"\d", v)]
    percent = any(v.endswith("%") for v in numbers)
    formats = [Transform(percent=percent, decimal=t.decimal, thousands=t.thousands) for t in _NUMBER_FORMATS]
    best = max(formats, key=lambda t: sum(_reads(t, v) for v in numbers))
    return None if best == Transform() else best


# --- drafting -------------------------------------------------------------------------------------


def draft_spec(table: InputTable, registry: Registry, dataflow: str) -> MappingSpec:
    """A first spec for tables like ``table``: what can be matched is filled in, the rest is marked "?".

    Year-like headers (or headers that are codes of one dimension, such as group names) are melted;
    a numeric column becomes the measure; columns whose values are codes of a codelist map to its
    component, with a label map listing every label seen (TODO where no code matches exactly). Only the
    first :data:`DRAFT_SAMPLE_ROWS` rows are looked at.
    """
    flow = find_dataflow(registry, dataflow)
    if flow is None:
        raise ValueError(f"unknown dataflow {dataflow}")
    comps = Components(registry, registry.structure_of(flow))
    sample = table.rows[:DRAFT_SAMPLE_ROWS]
    columns = [[row[j].strip() if j < len(row) else "" for row in sample] for j in range(len(table.header))]
    numeric = [_numeric_share(values) >= 0.8 for values in columns]
    suggestions = [comps.suggest(h, v, limit=3) for h, v in zip(table.header, columns, strict=True)]

    melt = _draft_melt(table.header, suggestions, numeric, comps)
    melted = set(melt.columns) if melt else set()
    spec_columns: dict[str, Column] = {}
    used: set[str] = {melt.to, comps.measure} if melt else set()
    value_cells: list[str] = [v for j, h in enumerate(table.header) if h in melted for v in columns[j]]
    for j, header in enumerate(table.header):
        if header in melted or not header.strip():
            continue
        best = next((c for c in suggestions[j] if c.code is None and c.id not in used), None)
        component = best.id if best is not None and best.score >= 0.6 else None
        weak = component is None or (component in comps.dimensions and best is not None and best.score < CONFIDENT)
        if numeric[j] and weak and not melt and comps.measure not in used:
            component = comps.measure
        if component is None:
            spec_columns[header] = Column(component=TODO)
            continue
        used.add(component)
        if component == comps.measure:
            value_cells = columns[j]
            spec_columns[header] = Column(component=component, transform=_number_format(columns[j]))
        else:
            spec_columns[header] = Column(component=component, codes=_draft_codes(columns[j], comps.matcher(component)))
    if melt:
        melt = Melt(to=melt.to, columns=melt.columns, codes=melt.codes, transform=_number_format(value_cells))
    return MappingSpec(
        spec_version=SPEC_VERSION,
        id=re.sub(r"[^A-Za-z0-9_.\-]+", "-", table.source).strip("-.") or "draft",
        version="0.1",
        dataflow=str(flow.ref),
        description=f"Drafted from {table.source or 'a sample table'}: check every '?'",
        constants=_draft_constants(comps, used, value_cells),
        columns=spec_columns,
        melt=melt,
        missing=_draft_missing(value_cells, comps),
        defaults="_T" if any(_has_total(comps, d) for d in comps.dimensions if d not in used) else None,
    )


def _numeric_share(values: list[str]) -> float:
    """Share of the cells with digits that are numbers (cells without digits are blanks or markers such as n/a)."""
    cells = [v for v in values if re.search(r"\d", v)]
    return sum(_looks_numeric(v) for v in cells) / len(cells) if cells else 0.0


def _draft_melt(
    headers: list[str], suggestions: list[list[Candidate]], numeric: list[bool], comps: Components
) -> Melt | None:
    """Melt the numeric columns whose headers are time periods, else those that are codes of one dimension."""
    by_component: dict[str, dict[str, str]] = defaultdict(dict)
    for header, candidates, is_numeric in zip(headers, suggestions, numeric, strict=True):
        for candidate in candidates:
            if candidate.code is not None and is_numeric:
                by_component[candidate.id][header] = candidate.code
                break
    if comps.time in by_component:
        return Melt(to=comps.time, columns=list(by_component[comps.time]))
    wide = max(by_component.items(), key=lambda kv: len(kv[1]), default=None)
    if wide is None or len(wide[1]) < 2:
        return None
    return Melt(to=wide[0], columns=list(wide[1]), codes=wide[1])


def _draft_codes(values: list[str], matcher: CodeMatcher | None) -> dict[str, str]:
    if matcher is None:
        return {}
    labels = [v for v in dict.fromkeys(values) if v][:MAX_DRAFT_LABELS]
    return {label: matcher.confident(label) or TODO for label in labels}


def _has_total(comps: Components, dimension: str) -> bool:
    matcher = comps.matcher(dimension)
    return matcher is not None and "_T" in matcher


def _draft_constants(comps: Components, used: set[str], value_cells: list[str]) -> dict[str, str]:
    """Values for dimensions with no column and no _T, and for mandatory attributes with no column."""
    percent = any(v.strip().endswith("%") for v in value_cells)
    guesses = {"FREQ": "A", "REPORTING_TYPE": "N", "UNIT_MULT": "0", "OBS_STATUS": "A", "NATURE": "CG"}
    if percent:
        guesses["UNIT_MEASURE"] = "PT"
    constants: dict[str, str] = {} if comps.time in used else {comps.time: TODO}
    for component in comps.dsd.components:
        cid = component.id
        wanted = (component.role == "dimension" and not _has_total(comps, cid)) or (
            component.role == "attribute" and (component.usage == "mandatory" or cid == "NATURE")
        )
        if cid in used or not wanted:
            continue
        matcher = comps.matcher(cid)
        guess = guesses.get(cid)
        if guess is not None and (matcher is None or guess in matcher):
            constants[cid] = guess
        elif component.role == "dimension" or component.usage == "mandatory":
            constants[cid] = TODO
    return constants


def _draft_missing(value_cells: list[str], comps: Components) -> Missing | None:
    """A TODO rule for blank value cells and for each marker (a value without digits) seen."""
    status = "OBS_STATUS" if "OBS_STATUS" in comps else None
    rule: dict[str, str] | str = {status: TODO} if status else "skip"
    markers = {v: rule for v in dict.fromkeys(value_cells) if v and not re.search(r"\d", v)}
    blank = rule if any(not v for v in value_cells) else None
    return Missing(blank=blank, markers=markers) if blank is not None or markers else None
