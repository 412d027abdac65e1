"""Mapping specs: how one kind of input table becomes SDMX observations of one dataflow.

A mapping spec is a small YAML file that a coalition's data officer writes (or gets drafted by
``voices mapping suggest FILE``) and keeps next to the table it describes. It is versioned twice:
``spec_version`` is the version of this format (always 1 for now), ``version`` the version of the
spec itself, recorded with every release mapped through it. Its JSON Schema is
:func:`spec_json_schema`.

A complete example, for a Kenyan county scorecard table with Swahili labels::

    spec_version: 1                   # format version (required)
    id: ke-disability-county          # the spec's id: letters, digits, "_", "-", "."
    version: "1.1"                    # the spec's own version (quote it: 1.10 is not 1.1)
    dataflow: LNOB:DF_LNOB(1.0)       # target dataflow, AGENCY:ID(VERSION); no version = latest
    provider: KEN                     # optional: the data provider (coalition) id
    description: County scorecards, 2019-2021 rounds   # optional notes for people
    input: {sheet: Data, header_rows: 2, skip_rows: 1} # optional hints for the table reader

    constants:                        # the same value for every observation
      FREQ: A
      REPORTING_TYPE: N
      REF_AREA: "404"                 # quote codes that look like numbers
      UNIT_MEASURE: PT
      UNIT_MULT: "0"
      OBS_STATUS: A
      NATURE: CG

    columns:                          # one entry per table column, by its header text
      County:
        component: SUBNATIONAL        # a dimension, attribute, TIME_PERIOD or the measure (OBS_VALUE)
        codes: {Nairobi: KE-30, "County 01": KE-28}   # label in the table -> code
      Jinsia:
        component: SEX
        codes: {Mwanamke: F, Mwanaume: M, Jumla: _T}
        blank: _T                     # what an empty cell means (default: `defaults`)
      Kundi:
        component: POP_GROUP
        codes: {Walemavu: PWD, Vijana: KE_YOUTH}
      Indicator:
        component: SERIES
        codes: {"Satisfied with public services": SP_PSR_SATIS}
      Year: {component: TIME_PERIOD}
      Value:
        component: OBS_VALUE          # the measure
        transform:                    # how numbers are written
          percent: true               #   "45%" -> 45 (and a warning above 100%)
          decimal: ","                #   decimal separator: "." (default) or ","
          thousands: "."              #   thousands separator: none (default), ",", ".", "'" or " "
          multiply: 1                 #   multiply every value (1000 for a table in thousands)
          round: 1                    #   round to this many decimals
      Sample size: {component: SAMPLE_SIZE}   # numeric attributes are read like numbers
      Maoni: {component: COMMENT_OBS, optional: true}   # optional: the column may be absent
      Enumerator: {ignore: true}      # a column that is not mapped

    codes:                            # label maps shared by every column of a component
      SEX: {Female: F, Male: M}

    missing:                          # what blank cells and markers in value cells mean
      blank: {OBS_STATUS: L}          # attributes given to a blank value (or `blank: skip`)
      markers:
        "n/a": {OBS_STATUS: M}
        "-": {OBS_STATUS: L}
        "..": {OBS_STATUS: O}
        "*": {OBS_STATUS: Q, CONF_STATUS: C}
        "not surveyed": skip          # no observation at all

    defaults: _T                      # every dimension with no column or constant gets _T
    # or: defaults: {"*": _T, AGE: Y15T24, OBS_STATUS: A}  (per component; "*" = other dimensions)

A wide table (one value column per year, or per group) has no Year and Value columns but::

    melt:                             # each of these columns holds one observation per row
      columns: ["2019", "2020", "2021"]   # by header; or `pattern: '\\d{4}'` (a regular expression)
      to: TIME_PERIOD                 # the header goes to this component...
      codes: {}                       # ...through this label map when it is coded ("Dalit women": NP_DALIT)
      transform: {percent: true}      # how the cells' numbers are written

A spec uses either ``melt`` or one column with the measure, not both. Labels are matched exactly,
then ignoring case, accents and spacing, then as a code id ("F") or a code name ("Female") of the
component's codelist; anything else is reported with the closest codes. A value of ``"?"`` anywhere
marks something a drafted spec could not guess (a TODO). Unquoted numbers are read as text where
text is expected (``REF_AREA: 404``); numbers with leading zeros (``01``) or a decimal point
(``1.10``) are always kept as written, and only ``true``/``false`` are booleans (``NO`` is text).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

import msgspec
import yaml
from msgspec import Meta
from msgspec import inspect as mi

SPEC_VERSION = 1
TODO = "?"
"""Marks a value a drafted spec could not guess."""
SKIP = "skip"
"""A missing-value rule that drops the cell instead of making an observation of it."""
ALL_DIMENSIONS = "*"
"""Key of ``defaults`` for every dimension not named."""
_SPACES = " \u00a0\u2009\u202f"
"""Spaces accepted between digit groups (plain, no-break, thin, narrow no-break)."""
SCHEMA_ID = "urn:voices-exchange:schema:mapping-spec:1"

_DATAFLOW = r"^[A-Za-z][\w.\-]*:[A-Za-z][\w\-]*(\([0-9A-Za-z.+\-]+\))?$"
_SPEC_ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"

Codes = Annotated[
    dict[str, str],
    Meta(description='Label as written in the table → code, e.g. {"Mwanamke": "F"}. "?" marks a TODO.'),
]
Attributes = Annotated[dict[str, str], Meta(description="Attribute id → code, e.g. {OBS_STATUS: L}.")]


class _Spec(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


class Transform(_Spec):
    """How the numbers of a column are written."""

    percent: Annotated[bool, Meta(description='Cells may end in "%", which is removed ("45%" → 45).')] = False
    decimal: Annotated[Literal[".", ","], Meta(description="Decimal separator.")] = "."
    thousands: Annotated[
        Literal[",", ".", "'", " "] | None,
        Meta(description="Thousands separator (spaces between digit groups are always accepted)."),
    ] = None
    multiply: Annotated[float, Meta(gt=0, description="Multiply every value (1000: table in thousands).")] = 1.0
    round: Annotated[int, Meta(ge=0, le=15, description="Round to this many decimals.")] | None = None

    def parse(self, text: str) -> Decimal:
        """The number a cell holds, as written (before ``multiply`` and ``round``).

        Accepts Unicode digits (Devanagari, Bengali…), a leading sign, digit groups separated by
        ``thousands`` or spaces, ``decimal``, an exponent, and a trailing "%" when ``percent`` is set.
        Raises :class:`NumberError` with a hint saying what to change.
        """
        cleaned = ascii_digits(text).strip().replace("\u2212", "-")
        if cleaned.endswith("%"):
            if not self.percent:
                raise NumberError("has a % sign", "if the column holds percentages, set transform.percent: true")
            cleaned = cleaned[:-1].rstrip()
        separators = re.escape(_SPACES + (self.thousands or ""))
        match = re.fullmatch(
            rf"([+-]?)(\d{{1,3}}(?:[{separators}]\d{{3}})+|\d*)(?:{re.escape(self.decimal)}(\d+))?(?:[eE]([+-]?\d+))?",
            cleaned,
        )
        if not match or not (match.group(2) or match.group(3)):
            raise NumberError("is not a number", self._hint(cleaned))
        sign, whole, fraction, exponent = match.groups()
        digits = re.sub(f"[{separators}]", "", whole) or "0"
        return Decimal(sign + digits + (f".{fraction}" if fraction else "") + (f"E{exponent}" if exponent else ""))

    def apply(self, number: Decimal) -> Decimal:
        """``multiply`` then ``round`` (half away from zero)."""
        if self.multiply != 1:
            number *= Decimal(repr(self.multiply))
        if self.round is not None:
            number = number.quantize(Decimal(1).scaleb(-self.round), rounding=ROUND_HALF_UP)
        return number

    def _hint(self, text: str) -> str:
        other = "," if self.decimal == "." else "."
        if not re.search(r"\d", text):
            return f"if '{text}' means a missing value, add it to missing.markers"
        if re.search(r"[^\d\s.,'+\-eE%]", text):
            return "write only the number: units go in UNIT_MEASURE, notes in COMMENT_OBS"
        if other in text and self.thousands != other:
            return (
                f"if '{other}' separates decimals, set transform.decimal: '{other}'; "
                f"if it separates thousands, set transform.thousands: '{other}'"
            )
        return f"write numbers like 1234{self.decimal}5" + (
            f" or 1{self.thousands}234{self.decimal}5" if self.thousands else ""
        )


def ascii_digits(text: str) -> str:
    """Digits of any script (Devanagari ४५, Bengali ৪৫…) as ASCII digits."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


class NumberError(ValueError):
    """A cell is not a number in the column's format; ``hint`` says what to change."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.hint = hint


class Column(_Spec):
    """One column of the table, by its header text."""

    component: Annotated[
        str | None,
        Meta(description="Dimension, attribute, TIME_PERIOD or measure (OBS_VALUE) id the column maps to."),
    ] = None
    codes: Codes = {}
    blank: Annotated[str | None, Meta(description="The code or value an empty cell stands for.")] = None
    optional: Annotated[bool, Meta(description="The column may be absent from the table.")] = False
    ignore: Annotated[bool, Meta(description="The column is not mapped.")] = False
    transform: Transform | None = None


class Melt(_Spec):
    """Wide tables: each listed column holds one observation; its header goes to ``to``."""

    to: Annotated[str, Meta(description="Component the column headers map to (TIME_PERIOD, POP_GROUP…).")]
    columns: Annotated[list[str], Meta(description="Headers of the value columns.")] = []
    pattern: Annotated[
        str | None, Meta(description=r"Regular expression matching whole headers of value columns, e.g. \d{4}.")
    ] = None
    codes: Codes = {}
    transform: Transform | None = None


MissingRule = Annotated[
    Attributes | Literal["skip"],
    Meta(description='Attributes for the observation (its value is left empty), or "skip": no observation.'),
]


class Missing(_Spec):
    """What blank value cells and markers such as "n/a" mean."""

    blank: MissingRule | None = None
    markers: Annotated[
        dict[str, MissingRule], Meta(description='Marker text (matched ignoring case and spaces) → rule, e.g. "n/a".')
    ] = {}


class Input(_Spec):
    """Hints for the table reader."""

    sheet: Annotated[str | None, Meta(description="Spreadsheet sheet name.")] = None
    header_rows: (
        Annotated[int, Meta(ge=1, le=10, description="Rows forming the header (joined with ' / ').")] | None
    ) = None
    """Default: detected by the table reader."""
    skip_rows: Annotated[int, Meta(ge=0, le=1000, description="Rows above the header to skip (titles).")] | None = None
    """Default: detected by the table reader."""


class MappingSpec(_Spec):
    """A declarative mapping from one kind of input table to one SDMX dataflow."""

    spec_version: Annotated[Literal[1], Meta(description="Version of the mapping-spec format.")]
    id: Annotated[str, Meta(pattern=_SPEC_ID, description="The spec's id.")]
    version: Annotated[str, Meta(description='The spec\'s own version, e.g. "1.0".')]
    dataflow: Annotated[str, Meta(pattern=_DATAFLOW, description="Target dataflow, AGENCY:ID(VERSION).")]
    provider: Annotated[str | None, Meta(description="Data provider id.")] = None
    description: str | None = None
    input: Input | None = None
    constants: Annotated[dict[str, str], Meta(description="Component id → value for every observation.")] = {}
    columns: Annotated[dict[str, Column], Meta(description="Header text → how the column maps.")] = {}
    melt: Melt | None = None
    codes: Annotated[
        dict[str, Codes], Meta(description="Component id → label map shared by every column of that component.")
    ] = {}
    missing: Missing | None = None
    defaults: Annotated[
        str | dict[str, str] | None,
        Meta(
            description="Code for every dimension with no column or constant (e.g. _T), or component id → code "
            'with "*" for the other dimensions. Also used for blank cells.'
        ),
    ] = None

    def default_for(self, component: str, dimension: bool) -> str | None:
        """The default value of a component (the ``*`` default applies to dimensions only)."""
        if isinstance(self.defaults, str):
            return self.defaults if dimension else None
        if self.defaults:
            return self.defaults.get(component, self.defaults.get(ALL_DIMENSIONS) if dimension else None)
        return None

    def shared_codes(self, component: str) -> dict[str, str]:
        return self.codes.get(component, {})


@dataclass(frozen=True, slots=True)
class SpecIssue:
    path: str
    """Where in the YAML, e.g. ``columns["Sample size"].transform.decimal`` (empty for the whole document)."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """The spec cannot be used; ``issues`` lists every problem found, each with its YAML path."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = issues
        super().__init__("invalid mapping spec:\n" + "\n".join(f"  - {i}" for i in issues))


# --- YAML -----------------------------------------------------------------------------------------


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style scalars and duplicate-key detection.

    Only ``true``/``false`` are booleans and only plain decimal numbers without leading zeros are
    integers, so codes such as ``NO``, ``01``, ``050``, versions such as ``1.10`` and dates stay as written.
    """

    yaml_implicit_resolvers = {
        key: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] not in ("bool", "int", "float", "timestamp")]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[SpecIssue] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int) and key in seen:
                self.duplicates.append(
                    SpecIssue(f"line {key_node.start_mark.line + 1}", f"'{key}' appears twice in the same mapping")
                )
            seen.add(key if isinstance(key, str | int) else id(key))
        return super().construct_mapping(node, deep=deep)


_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_SpecLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789"))


def _parse_yaml(text: str) -> tuple[Any, list[SpecIssue]]:
    loader = _SpecLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError([SpecIssue(where, f"not valid YAML: {exc.problem or exc.context}")]) from exc
    except yaml.YAMLError as exc:
        raise SpecError([SpecIssue("", f"not valid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    return data, loader.duplicates


# --- checking -------------------------------------------------------------------------------------


def _segment(key: object) -> str:
    if isinstance(key, int):
        return f"[{key}]"
    text = str(key)
    return f".{text}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) else f"[{_quote(text)}]"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _join(path: str, key: object) -> str:
    seg = _segment(key)
    return seg[1:] if not path and seg.startswith(".") else path + seg


def _describe(t: mi.Type) -> str:
    t = t.type if isinstance(t, mi.Metadata) else t
    if isinstance(t, mi.UnionType):
        return " or ".join(_describe(x) for x in t.types if not isinstance(x, mi.NoneType))
    if isinstance(t, mi.LiteralType):
        return "one of " + ", ".join(repr(v) for v in t.values)
    names = {
        mi.StrType: "text",
        mi.IntType: "a whole number",
        mi.FloatType: "a number",
        mi.BoolType: "true or false",
        mi.DictType: "a mapping",
        mi.StructType: "a mapping",
        mi.ListType: "a list",
        mi.NoneType: "nothing",
    }
    return names.get(type(t), "a value")


def _kind_matches(value: object, t: mi.Type) -> bool:
    """Whether ``value`` is of the JSON kind that type ``t`` reads (used to pick a union branch)."""
    t = t.type if isinstance(t, mi.Metadata) else t
    if isinstance(t, mi.UnionType):
        return any(_kind_matches(value, x) for x in t.types)
    if value is None:
        return isinstance(t, mi.NoneType)
    if isinstance(value, bool):
        return isinstance(t, mi.BoolType)
    if isinstance(value, dict):
        return isinstance(t, mi.DictType | mi.StructType)
    if isinstance(value, list):
        return isinstance(t, mi.ListType)
    if isinstance(t, mi.LiteralType):
        return value in t.values
    if isinstance(value, int):
        return isinstance(t, mi.IntType | mi.FloatType | mi.StrType)
    return isinstance(t, mi.StrType | mi.FloatType)


_BAD = object()
"""What the checker returns for a value it reported; containers leave it out so the rest can still be checked."""


class _Checker:
    """Walks loaded YAML against the spec's msgspec types, normalising scalars and collecting every issue."""

    def __init__(self) -> None:
        self.issues: list[SpecIssue] = []

    def error(self, path: str, message: str) -> object:
        self.issues.append(SpecIssue(path, message))
        return _BAD

    def check(self, value: Any, t: mi.Type, path: str) -> Any:
        if isinstance(t, mi.Metadata):
            t = t.type
        if isinstance(t, mi.UnionType):
            branch = next((x for x in t.types if _kind_matches(value, x)), None)
            if branch is None:
                return self.error(path, f"expected {_describe(t)}, not {_show(value)}")
            return self.check(value, branch, path)
        if isinstance(t, mi.StructType):
            return self._struct(value, t, path)
        if isinstance(t, mi.DictType):
            if not isinstance(value, dict):
                return self.error(path, f"expected a mapping, not {_show(value)}")
            out = {}
            for key, item in value.items():
                if isinstance(key, bool) or not isinstance(key, str | int):
                    self.error(path, f"key {_show(key)} must be text")
                    continue
                out[str(key)] = self.check(item, t.value_type, _join(path, str(key)))
            return {k: v for k, v in out.items() if v is not _BAD}
        if isinstance(t, mi.ListType):
            if not isinstance(value, list):
                return self.error(path, f"expected a list, not {_show(value)}")
            items = [self.check(item, t.item_type, _join(path, i)) for i, item in enumerate(value)]
            return [item for item in items if item is not _BAD]
        return self._scalar(value, t, path)

    def _struct(self, value: Any, t: mi.StructType, path: str) -> Any:
        if not isinstance(value, dict):
            return self.error(path, f"expected a mapping, not {_show(value)}")
        fields = {f.encode_name: f for f in t.fields}
        out = {}
        for key, item in value.items():
            field = fields.get(key) if isinstance(key, str) else None
            if field is None:
                close = difflib.get_close_matches(str(key), list(fields), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(fields)})"
                self.error(_join(path, str(key)), "unknown key" + hint)
                continue
            checked = self.check(item, field.type, _join(path, key))
            if checked is not _BAD:
                out[key] = checked
        for name, field in fields.items():
            if field.required and name not in value:
                self.error(_join(path, name), "missing (required)")
        return out

    def _scalar(self, value: Any, t: mi.Type, path: str) -> Any:
        if isinstance(t, mi.LiteralType):
            if value in t.values:
                return value
        elif isinstance(t, mi.StrType):
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                return self.error(path, f"expected text, not {_show(value)} (put it in quotes)")
            if t.pattern and not re.search(t.pattern, value):
                expected = _PATTERN_HELP.get(t.pattern, t.pattern)
                return self.error(path, f"{_show(value)} is not well formed (expected {expected})")
            return value
        elif isinstance(t, mi.BoolType):
            if isinstance(value, bool):
                return value
        elif isinstance(t, mi.IntType | mi.FloatType):
            return self._number(value, t, path)
        elif isinstance(t, mi.NoneType) and value is None:
            return None
        return self.error(path, f"expected {_describe(t)}, not {_show(value)}")

    def _number(self, value: Any, t: mi.IntType | mi.FloatType, path: str) -> Any:
        number: float | int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(t, mi.FloatType) and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None:
            return self.error(path, f"expected {_describe(t)}, not {_show(value)}")
        for bound, ok, text in (
            (t.ge, lambda n, b: n >= b, "at least"),
            (t.gt, lambda n, b: n > b, "more than"),
            (t.le, lambda n, b: n <= b, "at most"),
        ):
            if bound is not None and not ok(number, bound):
                return self.error(path, f"must be {text} {bound}, not {_show(value)}")
        return number


_PATTERN_HELP = {
    _DATAFLOW: "AGENCY:ID(VERSION), e.g. LNOB:DF_LNOB(1.0)",
    _SPEC_ID: "letters, digits, '_', '-' and '.'",
}


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def _semantic_issues(spec: MappingSpec) -> list[SpecIssue]:
    """Rules the types cannot express (still without looking at the dataflow)."""
    issues: list[SpecIssue] = []

    def add(path: str, message: str) -> None:
        issues.append(SpecIssue(path, message))

    for header, col in spec.columns.items():
        path = _join("columns", header)
        if col.ignore and (col.component or col.codes or col.transform or col.blank is not None):
            add(path, "an ignored column takes no other settings")
        elif not col.ignore and not col.component:
            add(path, "say which component the column maps to (component: SEX) or leave it out (ignore: true)")
        _transform_issues(col.transform, _join(path, "transform"), add)
    if spec.melt is not None:
        path = "melt"
        if not spec.melt.columns and not spec.melt.pattern:
            add(path, "list the value columns (columns: [...]) or give a pattern")
        if spec.melt.pattern:
            try:
                re.compile(spec.melt.pattern)
            except re.error as exc:
                add(_join(path, "pattern"), f"not a valid regular expression: {exc}")
        for i, header in enumerate(spec.melt.columns):
            if header in spec.columns:
                add(_join(_join(path, "columns"), i), f"'{header}' is also listed under columns")
        _transform_issues(spec.melt.transform, _join(path, "transform"), add)
    if spec.missing is not None:
        folded: dict[str, str] = {}
        for marker in spec.missing.markers:
            key = " ".join(marker.casefold().split())
            if not key:
                add(_join("missing.markers", marker), "a blank marker: use missing.blank")
            elif key in folded:
                add(_join("missing.markers", marker), f"the same marker as '{folded[key]}' (case and spaces ignored)")
            folded.setdefault(key, marker)
    return issues


def _transform_issues(transform: Transform | None, path: str, add: Any) -> None:
    if transform is not None and transform.thousands == transform.decimal:
        add(_join(path, "thousands"), "the thousands and decimal separators must differ")


# --- public API -----------------------------------------------------------------------------------


def spec_path(*keys: str | int) -> str:
    """A YAML path as problems show it: ``columns["Sample size"].codes``."""
    path = ""
    for key in keys:
        path = _join(path, key)
    return path


def parse_dataflow(text: str) -> tuple[str, str, str | None]:
    """``AGENCY:ID(VERSION)`` → (agency, id, version); the version is None when not given."""
    match = re.fullmatch(_DATAFLOW, text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a dataflow reference like LNOB:DF_LNOB(1.0)")
    agency, rest = text.strip().split(":", 1)
    flow_id, _, version = rest.partition("(")
    return agency, flow_id, version.rstrip(")") or None


_STAND_INS = {"spec_version": SPEC_VERSION, "id": "x", "version": "x", "dataflow": "X:X"}


def load_spec(text: str) -> MappingSpec:
    """Read a mapping spec from YAML (or JSON); raises :class:`SpecError` listing every problem."""
    data, issues = _parse_yaml(text)
    if data is None:
        raise SpecError([SpecIssue("", "the spec is empty")])
    checker = _Checker()
    normalised = checker.check(data, mi.type_info(MappingSpec), "")
    issues += checker.issues
    try:  # stand-ins for wrong or missing top-level fields (already reported) let the other rules run
        spec = msgspec.convert({**_STAND_INS, **normalised}, MappingSpec)
    except msgspec.ValidationError:  # a nested required field was missing or wrong: already reported
        raise SpecError(issues) from None
    issues += _semantic_issues(spec)
    if issues:
        raise SpecError(issues)
    return spec


def dump_spec(spec: MappingSpec) -> str:
    """The spec as YAML (fields in the documented order, defaults left out, text quoted where needed)."""
    data = msgspec.to_builtins(spec)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the spec format, as served by the API.

    Text fields also accept integers, as :func:`load_spec` does (``REF_AREA: 404``).
    """
    schema = msgspec.json.schema(MappingSpec)
    _allow_integer_text(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Voices Exchange mapping spec",
        "description": "How one kind of input table (CSV/XLSX) maps onto SDMX observations of one dataflow.",
        **schema,
    }


def _allow_integer_text(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string":
            node["type"] = ["string", "integer"]
        for child in node.values():
            _allow_integer_text(child)
    elif isinstance(node, list):
        for child in node:
            _allow_integer_text(child)
