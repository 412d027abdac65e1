"""Validate a data message against its dataflow's DSD, codelists and content constraints.

Every observation is checked and every problem is reported (never only the first). The clean result
is grouped by series, ready for the store; nothing is written here.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import datetime

from exchange.formats.records import DataMessage, Location, ObservationRecord
from exchange.structures.model import Component, Dataflow, DataStructure
from exchange.structures.registry import Registry, UnknownArtefact
from exchange.timeperiod import EXAMPLES, Period, TimePeriodError, consistent_with_freq, parse_period
from exchange.validation.codes import CodeIndex
from exchange.validation.constraints import ConstraintChecker
from exchange.validation.report import Problem, ValidationReport

MISSING_VALUE_STATUSES = frozenset({"H", "L", "M", "O", "Q"})
"""CL_OBS_STATUS codes that explain a missing OBS_VALUE."""
NUMERIC_TYPES = frozenset({"Double", "Float", "Decimal", "Integer", "Long", "Short", "BigInteger", "Count"})
INTEGER_TYPES = frozenset({"Integer", "Long", "Short", "BigInteger", "Count"})


@dataclass(slots=True)
class ValidObservation:
    time_period: str
    period: Period
    value: float | None
    attributes: dict[str, str]


@dataclass(slots=True)
class SeriesData:
    key: tuple[str, ...]
    attributes: dict[str, str] = field(default_factory=dict)
    observations: dict[tuple[datetime, datetime], ValidObservation] = field(default_factory=dict)
    first_location: Location = field(default_factory=Location)


@dataclass
class ValidatedData:
    dataflow: Dataflow
    structure: DataStructure
    series: dict[tuple[str, ...], SeriesData]
    dataset_attributes: dict[str, str]
    report: ValidationReport


class Validator:
    """Validation rules for one dataflow, prepared once and applied to any number of records."""

    def __init__(self, registry: Registry, dataflow: Dataflow) -> None:
        self.dataflow = dataflow
        self.dsd = registry.structure_of(dataflow)
        self.dimensions = self.dsd.dimensions
        self.dimension_ids = tuple(d.id for d in self.dimensions)
        self.has_freq = "FREQ" in self.dimension_ids
        self.codes: dict[str, CodeIndex] = {}
        for component in self.dsd.components:
            enum = component.representation.enumeration if component.representation else None
            if enum is not None:
                with contextlib.suppress(UnknownArtefact):
                    self.codes[component.id] = CodeIndex(registry.codelist(enum))
        attrs = self.dsd.attributes
        self.obs_attributes = {a.id: a for a in attrs if a.attachment == "observation"}
        self.series_attributes = {a.id: a for a in attrs if a.attachment in ("series", "group")}
        self.dataset_attributes = {a.id: a for a in attrs if a.attachment == "dataset"}
        self.has_obs_status = "OBS_STATUS" in self.obs_attributes
        self.constraints = ConstraintChecker(registry.constraints_for(dataflow.ref, self.dsd.ref))
        self.scopes = {
            dim.id: scopes
            for dim in self.dimensions
            if dim.id in self.codes and (scopes := _country_scopes(registry, dim))
        }

    def validate(self, message: DataMessage) -> ValidatedData:
        """Check every record of the message; the result's report says whether it may be stored."""
        report = ValidationReport()
        series: dict[tuple[str, ...], SeriesData] = {}
        for record in message.observations:
            report.observations += 1
            self._observation(record, series, report)
        self._dataset_attributes(message.dataset_attributes, report)
        self._mandatory_series_attributes(series, report)
        report.series = len(series)
        return ValidatedData(self.dataflow, self.dsd, series, dict(message.dataset_attributes), report)

    def _observation(
        self, record: ObservationRecord, series: dict[tuple[str, ...], SeriesData], report: ValidationReport
    ) -> None:
        loc = record.location
        key = tuple(record.key.get(d, "") for d in self.dimension_ids)
        key_text = ".".join(key)
        problems_before = report.error_count

        def problem(rule: str, message: str, **kw: object) -> None:
            where = _located(loc, record.lineage, kw.get("component"))
            report.add(
                Problem(rule, message, series_key=key_text, time_period=record.time_period, location=where, **kw)
            )  # type: ignore[arg-type]

        for dim, code in zip(self.dimensions, key, strict=True):
            if not code:
                problem(
                    "missing-dimension",
                    f"dimension {dim.id} has no value",
                    component=dim.id,
                    hint="every observation needs a code for every dimension; use _T for 'total / no breakdown'",
                )
            else:
                self._check_value(dim, code, problem)
        for attr_id, value in record.series_attributes.items():
            self._check_attribute(attr_id, value, self.series_attributes, problem)
        for attr_id, value in record.obs_attributes.items():
            self._check_attribute(attr_id, value, self.obs_attributes, problem)
        for attr in self.obs_attributes.values():
            if attr.usage == "mandatory" and not record.obs_attributes.get(attr.id):
                problem(
                    "mandatory-attribute",
                    f"mandatory observation attribute {attr.id} is missing",
                    component=attr.id,
                    hint=self._attribute_hint(attr),
                )
        self._country_scope(key, problem)
        period = self._period(record, key, problem)
        value = self._value(record, problem)
        if report.error_count == problems_before:
            values = {
                **dict(zip(self.dimension_ids, key, strict=True)),
                **record.series_attributes,
                **record.obs_attributes,
            }
            violation = self.constraints.violation(values)
            if violation:
                offending = self.constraints.offending(values)
                problem(
                    "constraint",
                    f"the key is not allowed: {violation}",
                    component=offending[0] if len(offending) == 1 else None,
                    value=values[offending[0]] if len(offending) == 1 else key_text,
                    hint="check the series and breakdown codes against the dataflow's content constraint",
                )
        if report.error_count != problems_before or period is None:
            return
        data = series.get(key)
        if data is None:
            data = series[key] = SeriesData(key, dict(record.series_attributes), first_location=loc)
        else:
            for attr_id, attr_value in record.series_attributes.items():
                previous = data.attributes.setdefault(attr_id, attr_value)
                if previous != attr_value:
                    problem(
                        "series-attribute-conflict",
                        f"series attribute {attr_id} is '{attr_value}' here but '{previous}' earlier in the "
                        f"same series ({data.first_location.describe()})",
                        component=attr_id,
                        value=attr_value,
                        hint="a series attribute must have one value for the whole series",
                    )
        slot = (period.start, period.end)
        if slot in data.observations:
            problem(
                "duplicate",
                f"a second observation for period {record.time_period} in the same series",
                value=record.time_period,
                hint="remove the duplicate row, or split it into another series",
            )
            return
        data.observations[slot] = ValidObservation(record.time_period or "", period, value, dict(record.obs_attributes))

    def _country_scope(self, key: tuple[str, ...], problem) -> None:  # type: ignore[no-untyped-def]
        """Country-specific codes (COUNTRY_SCOPE annotation) may only be used with their REF_AREA."""
        if not self.scopes or "REF_AREA" not in self.dimension_ids:
            return
        area = key[self.dimension_ids.index("REF_AREA")]
        for dim_id, scopes in self.scopes.items():
            code = key[self.dimension_ids.index(dim_id)]
            allowed = scopes.get(code)
            if allowed and area not in allowed:
                problem(
                    "country-scope",
                    f"{dim_id} '{code}' is specific to REF_AREA {', '.join(sorted(allowed))}, not {area}",
                    component=dim_id,
                    value=code,
                    hint="use the generic group code (e.g. the code's parent) or the right REF_AREA",
                )

    def _check_value(self, component: Component, code: str, problem) -> None:  # type: ignore[no-untyped-def]
        index = self.codes.get(component.id)
        if index is not None and code not in index:
            problem(
                "unknown-code",
                f"'{code}' is not a code of {index.ref} ({component.id})",
                component=component.id,
                value=code,
                hint=index.hint(code),
            )
            return
        text_format = component.representation.text_format if component.representation else None
        if (
            index is None
            and text_format
            and text_format.text_type in NUMERIC_TYPES
            and not _is_number(code, text_format.text_type in INTEGER_TYPES)
        ):
            problem(
                "not-numeric",
                f"{component.id} must be a {text_format.text_type}, not '{code}'",
                component=component.id,
                value=code,
            )

    def _check_attribute(self, attr_id: str, value: str, allowed: dict[str, Component], problem) -> None:  # type: ignore[no-untyped-def]
        attr = allowed.get(attr_id)
        if attr is None:
            problem(
                "unknown-component",
                f"{attr_id} is not an attribute at this level of {self.dsd.ref}",
                component=attr_id,
                value=value,
            )
        elif value:
            self._check_value(attr, value, problem)

    def _period(self, record: ObservationRecord, key: tuple[str, ...], problem) -> Period | None:  # type: ignore[no-untyped-def]
        if not record.time_period:
            problem("missing-time-period", "the observation has no TIME_PERIOD", component="TIME_PERIOD")
            return None
        try:
            period = parse_period(record.time_period)
        except TimePeriodError as exc:
            problem("time-format", str(exc), component="TIME_PERIOD", value=record.time_period)
            return None
        if self.has_freq:
            freq = key[self.dimension_ids.index("FREQ")]
            if freq and not consistent_with_freq(period, freq):
                problem(
                    "time-frequency",
                    f"period '{record.time_period}' does not match FREQ={freq}",
                    component="TIME_PERIOD",
                    value=record.time_period,
                    hint=f"FREQ={freq} periods look like {EXAMPLES.get(freq, '?')}",
                )
        return period

    def _value(self, record: ObservationRecord, problem) -> float | None:  # type: ignore[no-untyped-def]
        raw = (record.value or "").strip()
        measure = self.dsd.measures[0].id if self.dsd.measures else "OBS_VALUE"
        if raw in ("", "NaN"):
            status = record.obs_attributes.get("OBS_STATUS")
            if self.has_obs_status and status not in MISSING_VALUE_STATUSES:
                problem(
                    "missing-value",
                    f"{measure} is missing but OBS_STATUS is '{status or ''}'",
                    component=measure,
                    value=raw,
                    hint="give a number, or mark the gap with OBS_STATUS O (missing value), "
                    "L (not collected), M (cannot exist) or Q (suppressed)",
                )
            return None
        try:
            value = float(raw)
        except ValueError:
            problem(
                "not-numeric",
                f"{measure} must be a number, not '{raw}'",
                component=measure,
                value=raw,
                hint="use a dot as decimal separator and no thousands separators or units",
            )
            return None
        if math.isinf(value):
            problem("not-numeric", f"{measure} must be finite", component=measure, value=raw)
            return None
        return value

    def _dataset_attributes(self, values: dict[str, str], report: ValidationReport) -> None:
        def problem(rule: str, message: str, **kw: object) -> None:
            report.add(Problem(rule, message, **kw))  # type: ignore[arg-type]

        for attr_id, value in values.items():
            self._check_attribute(attr_id, value, self.dataset_attributes, problem)
        for attr in self.dataset_attributes.values():
            if attr.usage == "mandatory" and not values.get(attr.id):
                problem("mandatory-attribute", f"mandatory dataset attribute {attr.id} is missing", component=attr.id)

    def _mandatory_series_attributes(self, series: dict[tuple[str, ...], SeriesData], report: ValidationReport) -> None:
        mandatory = [a for a in self.series_attributes.values() if a.usage == "mandatory"]
        for data in series.values():
            for attr in mandatory:
                if not data.attributes.get(attr.id):
                    report.add(
                        Problem(
                            "mandatory-attribute",
                            f"mandatory series attribute {attr.id} is missing",
                            component=attr.id,
                            series_key=".".join(data.key),
                            location=data.first_location,
                            hint=self._attribute_hint(attr),
                        )
                    )

    def _attribute_hint(self, attr: Component) -> str:
        index = self.codes.get(attr.id)
        if index is not None and len(index.codes) <= 30:
            return f"one of: {', '.join(sorted(index.codes))}"
        return f"give {attr.id} a value" + (f" from {index.ref}" if index else "")


def _located(location: Location, lineage: dict[str, tuple[str, str]], component: object) -> Location:
    """The record's location, moved to the column that held ``component`` when the record says which."""
    source = lineage.get(component) if isinstance(component, str) else None
    if source is None:
        return location
    return Location(line=location.line, row=location.row, column=source[0])


def _country_scopes(registry: Registry, dimension: Component) -> dict[str, frozenset[str]]:
    """Code → REF_AREA codes it is limited to.

    A COUNTRY_SCOPE annotation (population groups) or a REF_AREA annotation (a country's sub-national
    areas hang under a code annotated with its M49 code) limits the code and all its descendants.
    """
    enum = dimension.representation.enumeration if dimension.representation else None
    if enum is None:
        return {}
    items = {item.id: item for item in registry.codelist(enum).items}
    own: dict[str, frozenset[str]] = {}
    for item in items.values():
        for annotation in item.annotations:
            if annotation.type in ("COUNTRY_SCOPE", "REF_AREA"):
                text = annotation.title or annotation.text.get("en", "")
                own[item.id] = frozenset(part.strip() for part in text.split(",") if part.strip())
    scopes: dict[str, frozenset[str]] = {}
    for code in items:
        current: str | None = code
        while current is not None and current not in own:
            parent = items[current].parent if current in items else None
            current = parent if parent != current else None
        if current is not None:
            scopes[code] = own[current]
    return scopes


def _is_number(text: str, integer: bool) -> bool:
    try:
        int(text) if integer else float(text)
    except ValueError:
        return False
    return True
