"""Applying a mapping spec to an input table: SDMX observation records, and every mapping problem.

Problems come in three kinds. *Spec problems* (rules ``spec-…``, ``missing-column``, ``no-source``)
are about the spec or the table's columns as a whole; the blocking ones (unknown dataflow or
component, a wrong constant, a dimension with no value…) would make every record wrong, so when
there is one no record is produced at all, while the rows are still read so that the report lists
every label and number problem in one go. *Row problems* (``unmapped-label``, ``not-a-number``,
``blank-cell``, ``conflicting-values``) are located at a row and column of the user's file; the
observations of that row (or cell) are left out and the problem says why. *Warnings*
(``unmapped-column``, ``blank-value``, ``percent-over-100``, a label map pointing at a code that does
not exist) never stop a record on their own.

The records then go through :class:`exchange.validation.validator.Validator` like any data message;
each carries ``lineage``: for every component taken from the table, the column and the text it came from.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from exchange.formats.records import DataMessage, Location, ObservationRecord
from exchange.structures.model import Dataflow
from exchange.structures.registry import Registry
from exchange.validation.report import Problem
from mappings.spec import (
    ALL_DIMENSIONS,
    SKIP,
    TODO,
    Column,
    MappingSpec,
    NumberError,
    Transform,
    ascii_digits,
    spec_path,
)
from mappings.suggest import CodeMatcher, Components, find_dataflow, fold, match_key
from mappings.table import InputTable

MESSAGE_FORMAT = "mapped table"
SMALL_CODELIST = 20
"""Codelists up to this size are listed in full in hints."""
_DEFAULT_TRANSFORM = Transform()


@dataclass
class MappingResult:
    """What :func:`apply_mapping` produced: records (none if a blocking problem was found) and problems."""

    records: list[ObservationRecord]
    problems: list[Problem]
    dataflow: Dataflow | None = None
    dataset_attributes: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> DataMessage:
        """The records as a data message for the validator (a fresh one-pass iterator on each access)."""
        return DataMessage(
            observations=iter(self.records),
            structure_id=str(self.dataflow.ref) if self.dataflow else None,
            dataset_attributes=dict(self.dataset_attributes),
            format=MESSAGE_FORMAT,
        )

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def apply_mapping(table: InputTable, spec: MappingSpec, registry: Registry) -> MappingResult:
    """Map every row of ``table`` through ``spec`` onto the spec's dataflow."""
    plan = _Plan(spec, registry, table)
    if plan.comps is None:
        return MappingResult([], plan.problems)
    return plan.run(table)


def check_spec(spec: MappingSpec, registry: Registry) -> list[Problem]:
    """Problems of the spec itself against its dataflow, without any table (e.g. when a spec is uploaded)."""
    return _Plan(spec, registry).problems


@dataclass(slots=True)
class _Binding:
    """A spec column found in the table."""

    index: int
    header: str
    where: str
    """Column as the user sees it: ``C (Sex)``."""
    column: Column
    labels: _Labels


class _Labels:
    """Label → code for one column: the spec's maps (exact, then folded), then the codelist itself."""

    def __init__(self, own: dict[str, str], shared: dict[str, str], matcher: CodeMatcher | None, path: str) -> None:
        self.exact = {**shared, **own}
        self.folded = {match_key(k): v for k, v in self.exact.items()}
        self.matcher = matcher
        self.path = path
        self._cache: dict[str, str | None] = {}
        self._hints: dict[str, tuple[str, str]] = {}

    def resolve(self, label: str) -> str | None:
        """The code, or None when the label is unknown or still a TODO."""
        if label not in self._cache:
            code = self.exact.get(label, self.folded.get(match_key(label)))
            if code is None:
                code = self.matcher.lookup(label) if self.matcher is not None else label
            self._cache[label] = None if code == TODO else code
        return self._cache[label]

    def problem(self, label: str, component: str, location: Location) -> Problem:
        """Why :meth:`resolve` gave None: a TODO, or (coded components only) an unknown label."""
        if label not in self._hints:
            todo = f"'{label}' is still marked '?' in {self.path}"
            if self.matcher is None:
                self._hints[label] = (todo, f"replace the '?' in {self.path}")
            else:
                unknown = f"'{label}' is neither in {self.path} nor a code or name of {self.matcher.ref}"
                is_todo = self.exact.get(label, self.folded.get(match_key(label))) == TODO
                self._hints[label] = (todo if is_todo else unknown, _label_hint(label, self.matcher, self.path))
        message, hint = self._hints[label]
        return Problem("unmapped-label", message, component=component, value=label, location=location, hint=hint)


def _label_hint(label: str, matcher: CodeMatcher, path: str) -> str:
    ranked = matcher.rank(label)
    hint = f'add it to {path}, e.g. "{label}": {ranked[0].id if ranked else "CODE"}'
    if ranked:
        return hint + "; closest codes: " + ", ".join(c.describe() for c in ranked)
    if len(matcher.codes) <= SMALL_CODELIST:
        return hint + f"; codes of {matcher.ref}: " + ", ".join(matcher.describe(i.id) for i in matcher.items)
    return hint + f"; see {matcher.ref} ({len(matcher.codes)} codes)"


class _Plan:
    """A spec checked against its dataflow, then bound to one table's columns."""

    def __init__(self, spec: MappingSpec, registry: Registry, table: InputTable | None = None) -> None:
        self.spec = spec
        self.table = table
        self.problems: list[Problem] = []
        self.blocked = False
        self.flow = find_dataflow(registry, spec.dataflow)
        self.comps: Components | None = None
        if self.flow is None:
            known = [str(f.ref) for f in registry.of_type("dataflow")]
            close = difflib.get_close_matches(spec.dataflow, known, n=3, cutoff=0.5)
            self.add(
                "spec-unknown-dataflow",
                f"dataflow: {spec.dataflow} is not a dataflow of this service",
                value=spec.dataflow,
                hint=f"did you mean {' or '.join(close)}?" if close else f"use one of {', '.join(sorted(known))}",
            )
            return
        self.comps = Components(registry, registry.structure_of(self.flow))
        self.fixed: dict[str, str] = {}
        """Values every row starts with: constants, and defaults of components no column gives."""
        self.defaults: dict[str, str] = {}
        """Valid default per component (used for blank cells too)."""
        self._check()

    # -- problems ------------------------------------------------------------------------------

    def add(
        self,
        rule: str,
        message: str,
        *,
        blocking: bool = True,
        severity: Literal["error", "warning"] = "error",
        component: str | None = None,
        value: str | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.blocked |= blocking and severity == "error"
        self.problems.append(
            Problem(rule, message, component, value, location=Location(column=column), hint=hint, severity=severity)
        )

    def _known(self, component: str, path: str, column: str | None = None, *, unused: str | None = None) -> bool:
        """Whether ``component`` is a component of the structure; reported when not, as a warning saying
        ``unused`` when the mistake cannot affect this table."""
        assert self.comps is not None
        if component == TODO:
            self.add("spec-todo", f"{path}: still marked '?'", column=column, hint="say which component this is")
            return False
        if component in self.comps:
            return True
        close = difflib.get_close_matches(component, list(self.comps.by_id), n=3, cutoff=0.5)
        self.add(
            "spec-unknown-component",
            f"{path}: {component} is not a component of {self.comps.dsd.ref}" + (f" ({unused})" if unused else ""),
            blocking=unused is None,
            severity="warning" if unused else "error",
            component=component,
            column=column,
            hint=f"did you mean {' or '.join(close)}?" if close else f"components: {', '.join(self.comps.by_id)}",
        )
        return False

    def _code(self, component: str, code: str, path: str, *, blocking: bool = True) -> bool:
        """Whether ``code`` is a valid value of a coded component (reported when not)."""
        assert self.comps is not None
        matcher = self.comps.matcher(component)
        if code == TODO:
            self.add(
                "spec-todo",
                f"{path}: still marked '?'",
                component=component,
                hint=f"give a code of {matcher.ref}" if matcher else "give a value",
            )
            return False
        if matcher is None or code in matcher:
            return True
        self.add(
            "spec-unknown-code",
            f"{path}: '{code}' is not a code of {matcher.ref} ({component})"
            + ("" if blocking else "; rows with this label will not validate"),
            blocking=blocking,
            severity="error" if blocking else "warning",
            component=component,
            value=code,
            hint=matcher.hint(code),
        )
        return False

    # -- static checks -------------------------------------------------------------------------

    def _check(self) -> None:
        comps, spec = self.comps, self.spec
        assert comps is not None
        sources: dict[str, list[str]] = defaultdict(list)
        for header, col in spec.columns.items():
            path = spec_path("columns", header, "component")
            absent = col.optional and self.table is not None and self.table.column(header) is None
            unused = None
            if col.optional and (absent or self.table is None):
                unused = (
                    "the table has no such column" if absent else "the column is optional: an error once a table has it"
                )
            if col.ignore or col.component is None or not self._known(col.component, path, header, unused=unused):
                continue
            if not absent:
                sources[col.component].append(path)
            if comps.by_id[col.component].attachment == "dataset":
                self.add(
                    "spec-attachment",
                    f"{path}: {col.component} is a dataset attribute",
                    component=col.component,
                    hint="give it once, in constants",
                )
            self._label_map(col.component, col.codes, ("columns", header, "codes"))
            if col.blank is not None:
                self._code(col.component, col.blank, spec_path("columns", header, "blank"))
        for component, codes in spec.codes.items():
            if self._known(component, spec_path("codes", component), unused="its labels are not used"):
                self._label_map(component, codes, ("codes", component))
        if spec.melt is not None and self._known(spec.melt.to, "melt.to"):
            if comps.role(spec.melt.to) not in ("dimension", "time_dimension"):
                self.add(
                    "spec-melt",
                    f"melt.to: {spec.melt.to} is not a dimension",
                    component=spec.melt.to,
                    hint=f"melt column headers into a dimension or {comps.time}",
                )
            self._label_map(spec.melt.to, spec.melt.codes, ("melt", "codes"))
            sources[spec.melt.to].append("melt.to")
            sources[comps.measure].append("melt")
        for component, value in spec.constants.items():
            path = spec_path("constants", component)
            if not self._known(component, path):
                continue
            if component == comps.measure:
                self.add(
                    "spec-constant",
                    f"{path}: the measure comes from the table",
                    component=component,
                    hint="map a column to it, or melt value columns",
                )
            elif self._code(component, value, path):
                self.fixed[component] = value
            sources[component].append(path)
        self._missing_rules()
        self._defaults()
        for component, paths in sources.items():
            if len(paths) > 1 and (component == comps.measure or not all(p.startswith("columns") for p in paths)):
                self.add(
                    "spec-conflict",
                    f"{component} is given by {' and by '.join(paths)}",
                    component=component,
                    hint="give each component one source: a column, a constant or melt",
                )
        if not sources.get(comps.measure):
            self.add(
                "no-source",
                f"no column holds the measure {comps.measure}",
                component=comps.measure,
                hint=f"add e.g. Value: {{component: {comps.measure}}} to columns, or melt the value columns",
            )
        self._sources(sources)

    def _label_map(self, component: str, codes: dict[str, str], keys: tuple[str, ...]) -> None:
        assert self.comps is not None
        if self.comps.matcher(component) is None:
            return
        for label, code in codes.items():
            if code != TODO:
                self._code(component, code, spec_path(*keys, label), blocking=False)

    def _missing_rules(self) -> None:
        missing = self.spec.missing
        if missing is None:
            return
        rules = [("missing.blank", missing.blank)] + [
            (spec_path("missing", "markers", marker), rule) for marker, rule in missing.markers.items()
        ]
        for path, rule in rules:
            if rule is None or rule == SKIP:
                continue
            assert isinstance(rule, dict)
            for attribute, code in rule.items():
                attr_path = f"{path}.{attribute}"
                if self._known(attribute, attr_path) and self._attribute(attribute, attr_path):
                    self._code(attribute, code, attr_path)

    def _attribute(self, component: str, path: str) -> bool:
        assert self.comps is not None
        if self.comps.role(component) == "attribute":
            return True
        self.add(
            "spec-missing-rule",
            f"{path}: {component} is not an attribute",
            component=component,
            hint="missing-value rules set attributes such as OBS_STATUS",
        )
        return False

    def _defaults(self) -> None:
        """Explicit defaults must be valid; the ``*`` (or plain) default applies to dimensions having that code.

        Defaults are where every row starts; a row's cells then override them.
        """
        comps, spec = self.comps, self.spec
        assert comps is not None
        explicit = spec.defaults if isinstance(spec.defaults, dict) else {}
        if spec.default_for(ALL_DIMENSIONS, dimension=True) == TODO:
            self.add("spec-todo", "defaults: still marked '?'", hint="give the code of 'no breakdown', usually _T")
        for component, code in explicit.items():
            path = spec_path("defaults", component)
            if component != ALL_DIMENSIONS and self._known(component, path) and self._code(component, code, path):
                self.defaults[component] = code
        for component in comps.dimensions:
            if component in explicit:
                continue
            code = spec.default_for(component, dimension=True)
            matcher = comps.matcher(component)
            if code is not None and code != TODO and (matcher is None or code in matcher):
                self.defaults[component] = code
        for component, code in self.defaults.items():
            self.fixed.setdefault(component, code)

    def _sources(self, sources: dict[str, list[str]]) -> None:
        """Every dimension and mandatory attribute needs a column, melt, constant or default."""
        comps = self.comps
        assert comps is not None
        needed = [*comps.dimensions, comps.time] + [
            a.id for a in comps.dsd.attributes if a.usage == "mandatory" and a.attachment != "dataset"
        ]
        for component in needed:
            if component in sources or component in self.fixed:
                continue
            matcher = comps.matcher(component)
            default = self.spec.default_for(component, dimension=component in comps.dimensions)
            why = f" ({default} is not a code of {matcher.ref})" if default and matcher and default != TODO else ""
            example = next(iter(matcher.items)).id if matcher and matcher.items else "…"
            self.add(
                "no-source",
                f"{component} has no column, constant or default{why}",
                component=component,
                hint=f"add it to constants (e.g. {component}: {example}) or map a column to it",
            )

    # -- rows ----------------------------------------------------------------------------------

    def run(self, table: InputTable) -> MappingResult:
        comps = self.comps
        assert comps is not None and self.flow is not None
        bindings, melt_columns, covered = self._bind(table)
        for j, header in enumerate(table.header):
            if j not in covered:
                self._unmapped_column(table, j, header)
        by_component: dict[str, list[_Binding]] = defaultdict(list)
        measure: _Binding | None = None
        for binding in bindings:
            if binding.column.component == comps.measure:
                measure = measure or binding
            else:
                by_component[binding.column.component or ""].append(binding)
        records: list[ObservationRecord] = []
        for i, row in enumerate(table.rows):
            if not any(cell.strip() for cell in row):
                continue
            row_number = table.row_numbers[i]
            values, lineage, fine = self._row(row, row_number, by_component)
            if melt_columns:
                for binding, code in melt_columns:
                    to = binding.column.component or ""
                    melted = ({**values, to: code}, {**lineage, to: (binding.where, binding.header)})
                    self._observation(row, row_number, binding, *melted, fine, records)
            elif measure is not None:
                self._observation(row, row_number, measure, values, lineage, fine, records)
        dataset = {k: v for k, v in self.fixed.items() if comps.by_id[k].attachment == "dataset"}
        return MappingResult([] if self.blocked else records, self.problems, self.flow, dataset)

    def _bind(self, table: InputTable) -> tuple[list[_Binding], list[tuple[_Binding, str]], set[int]]:
        """Find the spec's columns in the table (reporting missing ones) and the melted columns' codes."""
        comps, spec = self.comps, self.spec
        assert comps is not None
        bindings: list[_Binding] = []
        covered: set[int] = set()
        for header, col in spec.columns.items():
            index = table.column(header)
            if index is None:
                if not col.optional and not col.ignore:
                    self._missing_column(table, header, spec_path("columns", header))
                continue
            covered.add(index)
            if col.ignore or col.component is None or col.component not in comps:
                continue
            labels = self._labels(col.component, col.codes, spec_path("columns", header, "codes"))
            bindings.append(_Binding(index, table.header[index], _where(table, index), col, labels))
        melted: list[tuple[_Binding, str]] = []
        if spec.melt is not None and spec.melt.to in comps:
            melt = spec.melt
            indexes: list[int] = []
            for i, header in enumerate(melt.columns):
                index = table.column(header)
                if index is None:
                    self._missing_column(table, header, spec_path("melt", "columns", i))
                else:
                    indexes.append(index)
            if melt.pattern:
                indexes += [j for j, h in enumerate(table.header) if re.fullmatch(melt.pattern, h.strip())]
            if not indexes:
                self.add(
                    "missing-column",
                    "melt: no column of the table is listed in melt.columns or matches melt.pattern",
                    hint=f"the table's columns: {', '.join(table.header)}",
                )
            labels = self._labels(melt.to, melt.codes, "melt.codes")
            value_column = Column(component=melt.to, transform=melt.transform)
            for index in dict.fromkeys(indexes):
                covered.add(index)
                binding = _Binding(index, table.header[index], _where(table, index), value_column, labels)
                code = labels.resolve(binding.header.strip())
                if code is None:
                    self.problems.append(
                        labels.problem(binding.header.strip(), melt.to, Location(column=binding.where))
                    )
                else:
                    melted.append((binding, ascii_digits(code) if melt.to == comps.time else code))
        return bindings, melted, covered

    def _labels(self, component: str, codes: dict[str, str], path: str) -> _Labels:
        """The column's label resolver; problems point at its own map, or at the shared one when only that exists."""
        assert self.comps is not None
        shared = self.spec.shared_codes(component)
        where = spec_path("codes", component) if shared and not codes else path
        return _Labels(codes, shared, self.comps.matcher(component), where)

    def _missing_column(self, table: InputTable, header: str, path: str) -> None:
        close = difflib.get_close_matches(fold(header), [fold(h) for h in table.header], n=3, cutoff=0.5)
        names = [h for h in table.header if fold(h) in close]
        self.add(
            "missing-column",
            f"{path}: the table has no column '{header}'",
            column=header,
            hint=(f"did you mean {' or '.join(repr(n) for n in names)}? " if names else "")
            + "rename the column in the spec, or mark it optional: true",
        )

    def _unmapped_column(self, table: InputTable, index: int, header: str) -> None:
        assert self.comps is not None
        values = [row[index] for row in table.rows if index < len(row)]
        if not header.strip() and not any(v.strip() for v in values):
            return
        best = next(iter(self.comps.suggest(header, values, limit=1)), None)
        example = f"component: {best.id}" if best is not None and best.score >= 0.5 else "component: ?"
        self.add(
            "unmapped-column",
            f"column '{header}' is not in the spec; its values are not used",
            blocking=False,
            severity="warning",
            column=_where(table, index),
            hint=f'add "{header}": {{{example}}} to columns, or "{header}": {{ignore: true}}',
        )

    def _row(
        self, row: list[str], row_number: int, by_component: dict[str, list[_Binding]]
    ) -> tuple[dict[str, str], dict[str, tuple[str, str]], bool]:
        """Values of every non-measure component for one row; ``fine`` is False when a problem was found."""
        comps = self.comps
        assert comps is not None
        values = dict(self.fixed)
        lineage: dict[str, tuple[str, str]] = {}
        fine = True
        for component, bindings in by_component.items():
            filled = [(b, _cell(row, b.index)) for b in bindings if _cell(row, b.index)]
            if not filled:
                first = bindings[0]
                value = first.column.blank if first.column.blank is not None else self.defaults.get(component)
                lineage[component] = (first.where, "")
                if value is not None:
                    values[component] = value
                elif comps.role(component) != "attribute":
                    fine = False
                    self.problems.append(
                        Problem(
                            "blank-cell",
                            f"{component} is empty and the spec does not say what an empty cell means",
                            component=component,
                            value="",
                            location=Location(row=row_number, column=first.where),
                            hint=f"fill the cell, or add blank: CODE to {spec_path('columns', first.header)} "
                            "(or a default for the component in defaults)",
                        )
                    )
                continue
            chosen: tuple[_Binding, str, str] | None = None
            for binding, text in filled:
                value = self._convert(component, binding, text, row_number)
                if value is None:
                    fine = False
                elif chosen is None:
                    chosen = (binding, text, value)
                elif value != chosen[2]:
                    fine = False
                    self.problems.append(
                        Problem(
                            "conflicting-values",
                            f"{component} is '{chosen[2]}' from {chosen[0].where} but '{value}' from this column",
                            component=component,
                            value=text,
                            location=Location(row=row_number, column=binding.where),
                            hint="leave one of the two cells empty, or map one of the columns to another component",
                        )
                    )
            if chosen is not None:
                values[component], lineage[component] = chosen[2], (chosen[0].where, chosen[1])
        return values, lineage, fine

    def _convert(self, component: str, binding: _Binding, text: str, row_number: int) -> str | None:
        """A non-blank cell's value: a code, a number, or the text; None (reported) when it cannot be read."""
        assert self.comps is not None
        location = Location(row=row_number, column=binding.where)
        if self.comps.numeric(component):
            return self._number(component, binding.column.transform or _DEFAULT_TRANSFORM, text, location)
        code = binding.labels.resolve(text)
        if code is None:
            self.problems.append(binding.labels.problem(text, component, location))
        return ascii_digits(code) if code is not None and component == self.comps.time else code

    def _number(self, component: str, transform: Transform, text: str, location: Location) -> str | None:
        try:
            number = transform.parse(text)
        except NumberError as exc:
            self.problems.append(
                Problem(
                    "not-a-number", f"'{text}' {exc}", component=component, value=text, location=location, hint=exc.hint
                )
            )
            return None
        if transform.percent and number > 100:
            self.problems.append(
                Problem(
                    "percent-over-100",
                    f"'{text}' is more than 100%",
                    component=component,
                    value=text,
                    location=location,
                    hint="check the value: a share cannot exceed 100% (growth rates can)",
                    severity="warning",
                )
            )
        return format(transform.apply(number), "f")

    def _observation(
        self,
        row: list[str],
        row_number: int,
        binding: _Binding,
        values: dict[str, str],
        lineage: dict[str, tuple[str, str]],
        fine: bool,
        records: list[ObservationRecord],
    ) -> None:
        """The observation of one value cell (none for a problem, a skip rule or an unexplained blank)."""
        comps = self.comps
        assert comps is not None
        text = _cell(row, binding.index)
        location = Location(row=row_number, column=binding.where)
        missing = self.spec.missing
        rule = None
        if not text:
            rule = missing.blank if missing else None
            if rule is None:
                self.problems.append(
                    Problem(
                        "blank-value",
                        "blank cell: say what it means in `missing`; no observation was made of it",
                        component=comps.measure,
                        value="",
                        location=location,
                        hint="add to the spec e.g. missing: {blank: {OBS_STATUS: L}} (not collected), "
                        "{OBS_STATUS: O} (missing) or blank: skip",
                        severity="warning",
                    )
                )
                return
        elif missing is not None:
            rule = next((r for marker, r in missing.markers.items() if fold(marker) == fold(text)), None)
        value = None
        if rule is None:
            value = self._number(comps.measure, binding.column.transform or _DEFAULT_TRANSFORM, text, location)
            if value is None:
                return
        elif rule == SKIP:
            return
        if not fine:
            return
        attributes = {**values, **rule} if isinstance(rule, dict) else values
        records.append(
            ObservationRecord(
                key={d: attributes[d] for d in comps.dimensions if d in attributes},
                time_period=attributes.get(comps.time),
                value=value,
                obs_attributes=self._attributes(attributes, ("observation",)),
                series_attributes=self._attributes(attributes, ("series", "group")),
                location=location,
                lineage={**lineage, comps.measure: (binding.where, text)},
            )
        )

    def _attributes(self, values: dict[str, str], attachments: tuple[str, ...]) -> dict[str, str]:
        assert self.comps is not None
        by_id = self.comps.by_id
        return {k: v for k, v in values.items() if by_id[k].role == "attribute" and by_id[k].attachment in attachments}


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _where(table: InputTable, index: int) -> str:
    letter = table.column_letters[index] if index < len(table.column_letters) else str(index + 1)
    return f"{letter} ({table.header[index]})"
