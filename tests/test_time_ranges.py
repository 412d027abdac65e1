"""Time ranges in content-constraint cube regions (what availability responses need: "data exist from 2015
to 2024" for TIME_PERIOD), end to end: the model and its stored JSON, the four structure writers against the
official schemas, read-back by sdmx1 and pysdmx, and round trips through our own readers."""

from __future__ import annotations

import json

import pytest
from lxml import etree
from pysdmx.model import CubeTimeRange, TimePeriodBoundary
from sdmx.reader.xml.common import XMLParseError

from exchange.formats.structure_message import NotRepresentable
from exchange.formats.structure_xml import xml_bool
from exchange.structures import from_sdmx1
from exchange.structures.model import (
    Artefact,
    ContentConstraint,
    CubeRegion,
    TimeRange,
    from_json,
    to_json,
)
from exchange.structures.readers import read_structures
from exchange.validation.constraints import ConstraintChecker
from tests.test_structure_writers import (
    FORMAT_NAMES,
    ML_VERSION,
    by_id,
    codelists,
    concept_scheme,
    constraint,
    data_structure,
    dataflow,
    pysdmx_read,
    render,
    sdmx1_read,
    validate,
)

RANGES = {
    "start_and_end": TimeRange("2015", "2024"),
    "after_only": TimeRange(start="2015-Q2"),
    "before_only": TimeRange(end="2000-01-31", end_inclusive=False),
    "exclusive_bounds": TimeRange("2015-01", "2024-12", start_inclusive=False, end_inclusive=False),
}
KINDS = tuple(RANGES)
EXCLUDED = TimeRange(end="2018")
"""The range of the excluded cube region (a BeforePeriod) that every test constraint also has."""
OUR_READERS = ("ml21", "ml30", "json20")
"""The formats :func:`read_structures` reads (SDMX-JSON 1.0 is written, not read)."""


def ranged_constraint(time_range: TimeRange) -> ContentConstraint:
    """The writer tests' dataflow constraint with values and a TIME_PERIOD range in both of its cube regions."""
    cc = constraint()
    cc.cube_regions = [
        CubeRegion(members={"FREQ": ["A"], "REF_AREA": ["404", "KE_47"]}, time_ranges={"TIME_PERIOD": time_range}),
        CubeRegion(include=False, members={"REF_AREA": ["KE_47"]}, time_ranges={"TIME_PERIOD": EXCLUDED}),
    ]
    return cc


def message(fmt: str, cc: ContentConstraint) -> bytes:
    """``cc`` with the dataflow, data structure and schemes it builds on (so sdmx1 can resolve TIME_PERIOD)."""
    artefacts: list[Artefact] = [*codelists(), concept_scheme(), data_structure(), dataflow(), cc]
    return render(fmt, artefacts)


def bounds(time_range: TimeRange) -> list[tuple[str, str, bool]]:
    """(SDMX-ML element, period, isInclusive) the schemas' TimeRangeValueType choice asks for."""
    if time_range.start and time_range.end:
        return [
            ("StartPeriod", time_range.start, time_range.start_inclusive),
            ("EndPeriod", time_range.end, time_range.end_inclusive),
        ]
    if time_range.start:
        return [("AfterPeriod", time_range.start, time_range.start_inclusive)]
    return [("BeforePeriod", time_range.end or "", time_range.end_inclusive)]


def written_ranges(fmt: str, data: bytes) -> list[list[tuple[str, str, bool]]]:
    """Per cube region, the TIME_PERIOD bounds as written, read without SDMX tools."""
    if fmt in ML_VERSION:
        root = etree.fromstring(data)
        return [
            [
                (etree.QName(bound).localname, bound.text, bound.get("isInclusive") == "true")
                for bound in region.iterfind("{*}KeyValue[@id='TIME_PERIOD']/{*}TimeRange/*")
            ]
            for region in root.iter("{*}CubeRegion")
        ]
    doc = json.loads(data)
    [cc] = doc["data"]["contentConstraints" if fmt == "json10" else "dataConstraints"]
    return [
        [
            (name[:1].upper() + name[1:], bound["period"], bound["isInclusive"])
            for kv in region["keyValues"]
            if kv["id"] == "TIME_PERIOD"
            for name, bound in kv["timeRange"].items()
        ]
        for region in cc["cubeRegions"]
    ]


def written_values(fmt: str, data: bytes) -> list[dict[str, list[str]]]:
    """Per cube region, the values of the components that have values, read without SDMX tools."""
    if fmt in ML_VERSION:
        root = etree.fromstring(data)
        return [
            {kv.get("id"): [v.text for v in kv.iterfind("{*}Value")] for kv in region.iterfind("{*}KeyValue")}
            for region in root.iter("{*}CubeRegion")
        ]
    doc = json.loads(data)
    [cc] = doc["data"]["contentConstraints" if fmt == "json10" else "dataConstraints"]
    return [
        {
            kv["id"]: [v["value"] if isinstance(v, dict) else v for v in kv.get("values", [])]
            for kv in region["keyValues"]
        }
        for region in cc["cubeRegions"]
    ]


# --- model and stored JSON ----------------------------------------------------------------------------


def test_stored_constraints_without_time_ranges_decode_and_encode_unchanged() -> None:
    stored = b'{"type":"contentconstraint","agency":"A","id":"C","cube_regions":[{"members":{"FREQ":["A"]}}]}'
    decoded = from_json(stored)
    assert isinstance(decoded, ContentConstraint)
    assert decoded.cube_regions == [CubeRegion(members={"FREQ": ["A"]})]
    assert decoded.cube_regions[0].time_ranges == {}
    assert to_json(decoded) == stored
    assert b"time_ranges" not in to_json(constraint())


def test_time_ranges_are_stored_with_defaults_omitted() -> None:
    cc = ranged_constraint(RANGES["exclusive_bounds"])
    assert from_json(to_json(cc)) == cc
    region = json.loads(to_json(CubeRegion(time_ranges={"TIME_PERIOD": TimeRange(start="2015")})))
    assert region == {"time_ranges": {"TIME_PERIOD": {"start": "2015"}}}


# --- writers and the official schemas -----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_time_ranges_are_schema_valid_in_every_format(fmt: str, kind: str) -> None:
    data = message(fmt, ranged_constraint(RANGES[kind]))
    validate(fmt, data)
    assert written_ranges(fmt, data) == [bounds(RANGES[kind]), bounds(EXCLUDED)]
    assert written_values(fmt, data) == [
        {"FREQ": ["A"], "REF_AREA": ["404", "KE_47"], "TIME_PERIOD": []},
        {"REF_AREA": ["KE_47"], "TIME_PERIOD": []},
    ]


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_a_region_with_only_a_time_range_is_schema_valid(fmt: str) -> None:
    cc = constraint()
    cc.cube_regions = [CubeRegion(time_ranges={"TIME_PERIOD": RANGES["start_and_end"]})]
    data = render(fmt, [cc])
    validate(fmt, data)
    assert written_ranges(fmt, data) == [bounds(RANGES["start_and_end"])]


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_values_and_a_time_range_for_one_component_are_not_representable(fmt: str) -> None:
    cc = constraint()
    cc.cube_regions = [CubeRegion(members={"TIME_PERIOD": ["2015"]}, time_ranges={"TIME_PERIOD": TimeRange("2015")})]
    with pytest.raises(NotRepresentable, match="TIME_PERIOD"):
        render(fmt, [cc])
    cc.cube_regions[0].members = {"TIME_PERIOD": []}  # no values: nothing to choose between
    validate(fmt, render(fmt, [cc]))


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_a_time_range_without_bounds_is_left_out(fmt: str) -> None:
    cc = constraint()
    cc.cube_regions = [CubeRegion(members={"FREQ": ["A"]}, time_ranges={"TIME_PERIOD": TimeRange()})]
    data = render(fmt, [cc])
    validate(fmt, data)
    assert b"TIME_PERIOD" not in data


# --- read-back by sdmx1 and pysdmx --------------------------------------------------------------------

_SDMX1_NO_BEFORE_AFTER = pytest.mark.xfail(
    raises=XMLParseError, strict=True, reason="sdmx1 2.28 has no parser for com:BeforePeriod/com:AfterPeriod"
)


@pytest.mark.parametrize("kind", [pytest.param(k, marks=_SDMX1_NO_BEFORE_AFTER) if "only" in k else k for k in KINDS])
def test_sdmx1_reads_sdmx_ml_21_time_ranges(kind: str) -> None:
    """sdmx1's own reader: StartPeriod/EndPeriod as datetimes, isInclusive as the attribute's text.

    Only the included region is written (the excluded one's BeforePeriod would fail every case); our readers
    (below) read all four shapes.
    """
    time_range = RANGES[kind]
    cc = ranged_constraint(time_range)
    cc.cube_regions = cc.cube_regions[:1]
    msg = sdmx1_read(message("ml21", cc))
    [region] = msg.constraint["CN_KE_COALITION"].data_content_region
    members = {c.id: selection for c, selection in region.member.items()}
    assert {c: sorted(v.value for v in members[c].values) for c in ("FREQ", "REF_AREA")} == {
        "FREQ": ["A"],
        "REF_AREA": ["404", "KE_47"],
    }
    [value] = members["TIME_PERIOD"].values
    assert type(value).__name__ == "RangePeriod"
    assert (value.start.period.year, value.end.period.year) == (2015, 2024)
    assert value.start.is_inclusive == xml_bool(time_range.start_inclusive)
    assert value.end.is_inclusive == xml_bool(time_range.end_inclusive)


def test_our_converter_maps_sdmx1_own_time_ranges() -> None:
    """Fed sdmx1's own objects, periods come back as dates (sdmx1 keeps no period text)."""
    cc = ranged_constraint(RANGES["exclusive_bounds"])
    cc.cube_regions = cc.cube_regions[:1]
    converted = by_id(from_sdmx1.convert_message(sdmx1_read(message("ml21", cc)), sdmx3=False))
    [region] = converted["CN_KE_COALITION"].cube_regions  # type: ignore[attr-defined]
    assert region.members == {"FREQ": ["A"], "REF_AREA": ["404", "KE_47"]}
    assert region.time_ranges == {"TIME_PERIOD": TimeRange("2015-01-01", "2024-12-01", False, False)}


def _pysdmx_range(time_range: TimeRange) -> CubeTimeRange:
    boundaries = {element: TimePeriodBoundary(period, inclusive) for element, period, inclusive in bounds(time_range)}
    return CubeTimeRange(
        before_period=boundaries.get("BeforePeriod"),
        after_period=boundaries.get("AfterPeriod"),
        start_period=boundaries.get("StartPeriod"),
        end_period=boundaries.get("EndPeriod"),
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["ml21", "ml30", "json20"])
def test_pysdmx_reads_time_ranges(fmt: str, kind: str) -> None:
    # pysdmx validates SDMX-ML 3.0 against the 3.0.0 XSDs, whose Code/Parent typo rejects our code parents.
    read = pysdmx_read(message(fmt, ranged_constraint(RANGES[kind])), validate=fmt != "ml30")
    regions = read["CN_KE_COALITION"].cube_regions  # type: ignore[attr-defined]
    assert [r.is_included for r in regions] == [True, False]
    assert [{kv.id: kv.time_range for kv in r.key_values if kv.time_range} for r in regions] == [
        {"TIME_PERIOD": _pysdmx_range(RANGES[kind])},
        {"TIME_PERIOD": _pysdmx_range(EXCLUDED)},
    ]
    assert [{kv.id: [v.value for v in kv.values] for kv in r.key_values if kv.values} for r in regions] == [
        {"FREQ": ["A"], "REF_AREA": ["404", "KE_47"]},
        {"REF_AREA": ["KE_47"]},
    ]


# --- our readers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", OUR_READERS)
def test_time_ranges_round_trip_through_our_readers(fmt: str, kind: str) -> None:
    cc = ranged_constraint(RANGES[kind])
    read = by_id(read_structures(message(fmt, cc)))["CN_KE_COALITION"]
    assert read == cc
    assert from_json(to_json(read)) == cc


@pytest.mark.parametrize("fmt", OUR_READERS)
def test_every_shape_in_one_message_round_trips(fmt: str) -> None:
    """Several constraints, each region with a range (SDMX 3.0 allows two regions per constraint)."""
    constraints = []
    for i, time_range in enumerate(RANGES.values()):
        cc = ranged_constraint(time_range)
        cc.id = f"CN_RANGE_{i}"
        constraints.append(cc)
    artefacts: list[Artefact] = [*codelists(), concept_scheme(), data_structure(), dataflow(), *constraints]
    read = by_id(read_structures(render(fmt, artefacts)))
    assert [read[cc.id] for cc in constraints] == constraints


def test_sdmx_json_2_time_range_written_by_others() -> None:
    """Our JSON reader does not depend on our writer's key order or on isInclusive being given."""
    doc = {
        "meta": {"schema": "https://example.org/sdmx-json-structure-schema.json"},
        "data": {
            "dataConstraints": [
                {
                    "id": "CN",
                    "agencyID": "A",
                    "version": "1.0.0",
                    "cubeRegions": [
                        {
                            "keyValues": [
                                {
                                    "id": "TIME_PERIOD",
                                    "timeRange": {
                                        "endPeriod": {"period": "2024"},
                                        "startPeriod": {"period": "2015", "isInclusive": False},
                                    },
                                }
                            ]
                        },
                        {
                            "include": False,
                            "keyValues": [{"id": "TIME_PERIOD", "timeRange": {"afterPeriod": {"period": "2030"}}}],
                        },
                    ],
                }
            ]
        },
    }
    [cc] = read_structures(json.dumps(doc).encode())
    assert isinstance(cc, ContentConstraint)
    assert [(r.include, r.members, r.time_ranges) for r in cc.cube_regions] == [
        (True, {}, {"TIME_PERIOD": TimeRange("2015", "2024", start_inclusive=False)}),
        (False, {}, {"TIME_PERIOD": TimeRange(start="2030")}),
    ]


def test_sdmx_ml_time_range_without_is_inclusive_defaults_to_inclusive() -> None:
    """isInclusive defaults to true in the XSDs (sdmx1's own reader requires the attribute)."""
    cc = ranged_constraint(RANGES["start_and_end"])
    for fmt in ("ml21", "ml30"):
        data = message(fmt, cc).replace(b' isInclusive="true"', b"")
        validate(fmt, data)
        assert by_id(read_structures(data))["CN_KE_COALITION"] == cc


# --- data validation ----------------------------------------------------------------------------------


def test_constraint_validation_still_checks_values_of_ranged_regions() -> None:
    """exchange.validation.constraints checks values; ranges do not break it (observations here lie in them)."""
    checker = ConstraintChecker([ranged_constraint(RANGES["start_and_end"])])
    assert checker.violation({"FREQ": "A", "REF_AREA": "404", "TIME_PERIOD": "2020"}) is None
    assert "REF_AREA=524" in (checker.violation({"FREQ": "A", "REF_AREA": "524", "TIME_PERIOD": "2020"}) or "")
    only_ranges = constraint()
    only_ranges.cube_regions = [CubeRegion(time_ranges={"TIME_PERIOD": RANGES["start_and_end"]})]
    only_ranges.key_sets = []
    assert ConstraintChecker([only_ranges]).violation({"FREQ": "A", "TIME_PERIOD": "2020"}) is None
