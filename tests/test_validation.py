"""Validation rules: every problem reported with component, rule, value, location and a hint."""

from __future__ import annotations

import pytest

from codelists.loader import bundled_artefacts
from exchange.formats.records import DataMessage, Location, ObservationRecord
from exchange.structures.model import Ref
from exchange.structures.registry import Registry
from exchange.timeperiod import TimePeriodError, consistent_with_freq, parse_period
from exchange.validation.validator import Validator

SDG_KEY = {
    "FREQ": "A",
    "REPORTING_TYPE": "N",
    "SERIES": "SI_POV_DAY1",
    "REF_AREA": "404",
    "SEX": "F",
    "AGE": "_T",
    "URBANISATION": "_T",
    "INCOME_WEALTH_QUANTILE": "_T",
    "EDUCATION_LEV": "_T",
    "OCCUPATION": "_T",
    "CUST_BREAKDOWN": "_T",
    "COMPOSITE_BREAKDOWN": "_T",
    "DISABILITY_STATUS": "_T",
    "ACTIVITY": "_T",
    "PRODUCT": "_T",
}
OK_OBS = {"OBS_STATUS": "A", "UNIT_MULT": "0"}
OK_SERIES = {"UNIT_MEASURE": "PT"}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(bundled_artefacts())


def validate(registry: Registry, records: list[ObservationRecord], flow: str = "DF_SDG_GLC", version: str = "1.22"):
    agency = "IAEG-SDGs" if flow.startswith("DF_SDG_GL") else "LNOB"
    validator = Validator(registry, registry.dataflow(Ref("dataflow", agency, flow, version)))
    return validator.validate(DataMessage(iter(records)))


def record(row: int, period: str = "2020", value: str | None = "12.5", obs=None, series=None, **key: str):
    return ObservationRecord(
        {**SDG_KEY, **key}, period, value, {**OK_OBS, **(obs or {})}, {**OK_SERIES, **(series or {})}, Location(row=row)
    )


def test_valid_records_pass_and_group_into_series(registry: Registry) -> None:
    result = validate(registry, [record(1), record(2, "2021"), record(3, SEX="M")])
    assert result.report.ok, result.report.summary()
    assert result.report.observations == 3 and len(result.series) == 2


def test_every_kind_of_problem_is_reported(registry: Registry) -> None:
    records = [
        record(1, SEX="Female"),  # unknown code, hint F
        record(2, period="2020-Q1"),  # FREQ=A but quarterly period
        record(3, period="20201"),  # not a period
        record(4, value="12,5"),  # decimal comma
        record(5, value=None, obs={"OBS_STATUS": "A"}),  # missing value without a missing-value status
        record(6, obs={"UNIT_MULT": ""}),  # mandatory attribute missing
        record(7, REPORTING_TYPE="G"),  # excluded by CN_SDG_GLC (REPORTING_TYPE=N only)
        record(8, period="2019"),
        record(9, period="2019"),  # duplicate
        record(10, period="2018", series={"UNIT_MEASURE": "NUMBER"}),  # series attribute conflict
        record(11, REF_AREA=""),  # missing dimension
    ]
    report = validate(registry, records).report
    assert not report.ok
    by_row = {p.location.row: p for p in report.problems}
    assert by_row[1].rule == "unknown-code" and by_row[1].component == "SEX" and "F" in (by_row[1].hint or "")
    assert by_row[2].rule == "time-frequency"
    assert by_row[3].rule == "time-format"
    assert by_row[4].rule == "not-numeric" and by_row[4].value == "12,5"
    assert by_row[5].rule == "missing-value"
    assert by_row[6].rule == "mandatory-attribute" and by_row[6].component == "UNIT_MULT"
    assert by_row[7].rule == "constraint" and "REPORTING_TYPE=G" in by_row[7].message
    assert by_row[9].rule == "duplicate"
    assert by_row[10].rule == "series-attribute-conflict" and by_row[10].component == "UNIT_MEASURE"
    assert by_row[11].rule == "missing-dimension" and by_row[11].component == "REF_AREA"
    assert report.error_count == 10


def test_missing_value_with_missing_status_is_accepted(registry: Registry) -> None:
    report = validate(
        registry,
        [record(1, value=None, obs={"OBS_STATUS": "L"}), record(2, "2021", value="NaN", obs={"OBS_STATUS": "O"})],
    )
    assert report.report.ok, report.report.summary()


def test_partnership_dimensions_and_citizen_nature(registry: Registry) -> None:
    records = [
        record(1, POP_GROUP="KE_SLUM", SUBNATIONAL="KE-30", obs={"NATURE": "CG", "SAMPLE_SIZE": "240"}),
        record(2, POP_GROUP="NOT_A_GROUP", SUBNATIONAL="KE-99"),
        record(3, POP_GROUP="PWD", SUBNATIONAL="_T", obs={"SAMPLE_SIZE": "many"}),
    ]
    report = validate(registry, records, flow="DF_LNOB", version="1.0").report
    problems = {(p.location.row, p.component, p.rule) for p in report.problems}
    assert problems == {
        (2, "POP_GROUP", "unknown-code"),
        (2, "SUBNATIONAL", "unknown-code"),
        (3, "SAMPLE_SIZE", "not-numeric"),
    }


def test_country_specific_codes_need_their_country(registry: Registry) -> None:
    records = [
        record(1, POP_GROUP="KE_SLUM", SUBNATIONAL="KE-30"),  # Kenya: fine
        record(2, POP_GROUP="NP_DALIT", SUBNATIONAL="_T"),  # a Nepali group in Kenyan data
        record(3, POP_GROUP="PWD", SUBNATIONAL="NP-P2"),  # a Nepali province in Kenyan data
        record(4, REF_AREA="524", POP_GROUP="NP_DALIT", SUBNATIONAL="NP-P2"),  # Nepal: fine
    ]
    report = validate(registry, records, flow="DF_LNOB", version="1.0").report
    assert {(p.location.row, p.component, p.rule) for p in report.problems} == {
        (2, "POP_GROUP", "country-scope"),
        (3, "SUBNATIONAL", "country-scope"),
    }


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2020", "2020-01-01", "2021-01-01"),
        ("2020-A1", "2020-01-01", "2021-01-01"),
        ("2020-S2", "2020-07-01", "2021-01-01"),
        ("2020-Q2", "2020-04-01", "2020-07-01"),
        ("2020-05", "2020-05-01", "2020-06-01"),
        ("2020-M05", "2020-05-01", "2020-06-01"),
        ("2020-W01", "2019-12-30", "2020-01-06"),
        ("2020-02-29", "2020-02-29", "2020-03-01"),
        ("2020-D060", "2020-02-29", "2020-03-01"),
        ("2020-01-01/P2Y", "2020-01-01", "2022-01-01"),
    ],
)
def test_time_periods(text: str, start: str, end: str) -> None:
    period = parse_period(text)
    assert (period.start.date().isoformat(), period.end.date().isoformat()) == (start, end)


def test_time_period_errors_and_frequency() -> None:
    for bad in ("2020-13", "2021-02-29", "2020-Q5", "20", "2020-W54", "2021-D366"):
        with pytest.raises(TimePeriodError):
            parse_period(bad)
    assert consistent_with_freq(parse_period("2020-Q1"), "Q")
    assert not consistent_with_freq(parse_period("2020-Q1"), "A")
    assert consistent_with_freq(parse_period("2020-01-31"), "D")
