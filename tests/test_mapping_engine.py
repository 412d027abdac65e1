"""Mapping specs and the mapping engine: input tables (built directly) → SDMX observation records + problems."""

from __future__ import annotations

import csv
import io
import textwrap
import xml.etree.ElementTree as ET

import jsonschema
import pytest
import yaml

from codelists.loader import bundled_artefacts
from exchange.formats.records import Location, ObservationRecord
from exchange.structures.model import Codelist, Ref
from exchange.structures.registry import Registry
from exchange.validation.report import Problem
from exchange.validation.validator import Validator
from mappings import spec as spec_module
from mappings.engine import MappingResult, apply_mapping, check_spec
from mappings.sdg_build import import_sdg_build
from mappings.spec import (
    Column,
    MappingSpec,
    Melt,
    Missing,
    NumberError,
    SpecError,
    Transform,
    dump_spec,
    load_spec,
    spec_json_schema,
)
from mappings.suggest import CodeMatcher, draft_spec, fold, suggest_codes, suggest_components
from mappings.table import InputTable
from tests.conftest import SDG_SAMPLES

GLOBAL_FLOW = "IAEG-SDGs:DF_SDG_GLC(1.22)"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(bundled_artefacts())


def table(header: list[str], rows: list[list[str]], first_row: int = 2) -> InputTable:
    letters = [chr(ord("A") + i) for i in range(len(header))]
    return InputTable(header, rows, list(range(first_row, first_row + len(rows))), letters, source="test.xlsx / Data")


def spec(text: str) -> MappingSpec:
    return load_spec(textwrap.dedent(text))


def codelist(registry: Registry, agency: str, cl_id: str, version: str) -> Codelist:
    return registry.codelist(Ref("codelist", agency, cl_id, version))


def problems(result: MappingResult | list[Problem], rule: str) -> list[Problem]:
    found = result.problems if isinstance(result, MappingResult) else result
    return [p for p in found if p.rule == rule]


def validate(registry: Registry, result: MappingResult):  # type: ignore[no-untyped-def]
    assert result.dataflow is not None
    return Validator(registry, result.dataflow).validate(result.message).report


KENYA = """
    spec_version: 1
    id: ke-county-scorecard
    version: "1.0"
    dataflow: LNOB:DF_LNOB(1.0)
    provider: KEN
    constants: {FREQ: A, REPORTING_TYPE: N, REF_AREA: 404, SERIES: SI_POV_DAY1, UNIT_MEASURE: PT,
                UNIT_MULT: "0", OBS_STATUS: A, NATURE: CG}
    columns:
      Kaunti: {component: SUBNATIONAL}
      Jinsia: {component: SEX, codes: {Mwanamke: F, Mwanaume: M, Jumla: _T}, blank: _T}
      Kundi: {component: POP_GROUP, codes: {Walemavu: PWD}}
      Mwaka: {component: TIME_PERIOD}
      Thamani: {component: OBS_VALUE, transform: {percent: true, decimal: ","}}
      Sample size: {component: SAMPLE_SIZE}
      Maoni: {component: COMMENT_OBS, optional: true}
    missing:
      blank: {OBS_STATUS: L}
      markers: {"n/a": {OBS_STATUS: M}, "..": skip}
    defaults: _T
"""
KENYA_HEADER = ["Kaunti", "Jinsia", "Kundi", "Mwaka", "Thamani", "Sample size"]


# --- the spec format ------------------------------------------------------------------------------


def documented_examples() -> tuple[str, str]:
    """The long-table example of mappings/spec.py's docstring, and the melt block of its wide-table variant."""
    doc = spec_module.__doc__ or ""
    long = textwrap.dedent(doc.split("Swahili labels::\n")[1].split("\nA wide table")[0])
    melt = textwrap.dedent(doc.split("no Year and Value columns but::\n")[1].split("\nA spec uses")[0])
    return long, melt


def test_documented_examples_load_dump_match_the_schema_and_the_dataflow(registry: Registry) -> None:
    text, melt = documented_examples()
    loaded = load_spec(text)
    assert loaded.dataflow == "LNOB:DF_LNOB(1.0)" and loaded.version == "1.1"
    assert loaded.constants["REF_AREA"] == "404" and loaded.constants["UNIT_MULT"] == "0"
    assert loaded.columns["Jinsia"].codes == {"Mwanamke": "F", "Mwanaume": "M", "Jumla": "_T"}
    assert loaded.columns["Value"].transform == Transform(percent=True, decimal=",", thousands=".", round=1)
    assert loaded.missing is not None and loaded.missing.markers["not surveyed"] == "skip"
    assert check_spec(loaded, registry) == []
    wide = yaml.safe_load(text)
    del wide["columns"]["Year"], wide["columns"]["Value"]
    wide["melt"] = yaml.safe_load(melt)["melt"]
    melted = load_spec(yaml.safe_dump(wide))
    assert melted.melt == Melt(to="TIME_PERIOD", columns=["2019", "2020", "2021"], transform=Transform(percent=True))
    assert check_spec(melted, registry) == []
    schema = spec_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for example in (loaded, melted):
        dumped = dump_spec(example)
        assert load_spec(dumped) == example
        jsonschema.validate(yaml.safe_load(dumped), schema)
    jsonschema.validate(yaml.safe_load(text), schema)
    jsonschema.validate(wide, schema)
    jsonschema.validate(yaml.safe_load(textwrap.dedent(KENYA)), schema)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"colums": {}}, "colums"),
        ({"spec_version": 2}, "spec_version"),
        ({"dataflow": "DF_LNOB"}, "dataflow"),
        ({"columns": {"Sex": {"component": "SEX", "codez": {}}}}, "columns.Sex.codez"),
        (
            {"columns": {"Value": {"component": "OBS_VALUE", "transform": {"round": -1}}}},
            "columns.Value.transform.round",
        ),
        ({"missing": {"blank": "skp"}}, "missing.blank"),
        ({"defaults": ["_T"]}, "defaults"),
    ],
)
def test_schema_and_loader_reject_the_same_bad_specs(change: dict, path: str) -> None:
    good = {"spec_version": 1, "id": "x", "version": "1.0", "dataflow": "LNOB:DF_LNOB(1.0)"}
    bad = {**good, **change}
    jsonschema.validate(good, spec_json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, spec_json_schema())
    with pytest.raises(SpecError) as caught:
        load_spec(yaml.safe_dump(bad))
    assert [i.path for i in caught.value.issues] == [path]


def test_every_spec_problem_is_listed_with_its_yaml_path() -> None:
    text = """
        spec_version: 1
        id: bad id
        dataflow: LNOB:DF_LNOB(1.0)
        columns:
          Jinsia: {component: SEX, codes: {Mwanamke: F, Mwanamke: M}}
          Sample size: {component: SAMPLE_SIZE, transform: {percent: yes}}
          Notes: {}
        extra: true
    """
    with pytest.raises(SpecError) as caught:
        spec(text)
    assert [str(i) for i in caught.value.issues] == [
        "line 6: 'Mwanamke' appears twice in the same mapping",
        "id: 'bad id' is not well formed (expected letters, digits, '_', '-' and '.')",
        "columns[\"Sample size\"].transform.percent: expected true or false, not 'yes'",
        "extra: unknown key (allowed: spec_version, id, version, dataflow, provider, description, input, constants, "
        "columns, melt, codes, missing, defaults)",
        "version: missing (required)",
        "columns.Notes: say which component the column maps to (component: SEX) or leave it out (ignore: true)",
    ]


def test_rules_beyond_types_are_checked() -> None:
    text = """
        spec_version: 1
        id: x
        version: "1"
        dataflow: LNOB:DF_LNOB(1.0)
        columns:
          Value: {component: OBS_VALUE, transform: {decimal: ",", thousands: ","}}
          Notes: {ignore: true, component: COMMENT_OBS}
          "2019": {component: COMMENT_OBS}
        melt: {to: TIME_PERIOD, columns: ["2019"], pattern: "(20"}
        missing: {markers: {"n/a": skip, "N/A ": skip}}
    """
    with pytest.raises(SpecError) as caught:
        spec(text)
    assert [i.path for i in caught.value.issues] == [
        "columns.Value.transform.thousands",
        "columns.Notes",
        "melt.pattern",
        "melt.columns[0]",
        'missing.markers["N/A "]',
    ]


def test_yaml_scalars_stay_as_written() -> None:
    loaded = spec(
        """
        spec_version: 1
        id: bd
        version: 1.10
        dataflow: LNOB:DF_LNOB(1.0)
        constants: {REF_AREA: 050, UNIT_MULT: 0, COMMENT_OBS: NO, TIME_PERIOD: 2023-01-31}
        columns:
          County: {component: SUBNATIONAL, codes: {01: KE-28, 47: KE-30}}
        """
    )
    assert loaded.version == "1.10"
    assert loaded.constants == {"REF_AREA": "050", "UNIT_MULT": "0", "COMMENT_OBS": "NO", "TIME_PERIOD": "2023-01-31"}
    assert loaded.columns["County"].codes == {"01": "KE-28", "47": "KE-30"}


def test_unreadable_yaml_says_where() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec("columns: [")
    assert str(caught.value.issues[0]).startswith("line 1, column 11: not valid YAML")
    with pytest.raises(SpecError, match="the spec is empty"):
        load_spec("")


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transform", "text", "expected"),
    [
        (Transform(), "6.55", "6.55"),
        (Transform(), "4.415133545", "4.415133545"),
        (Transform(percent=True), "45%", "45"),
        (Transform(percent=True, decimal=","), "45,5 %", "45.5"),
        (Transform(decimal=",", thousands="."), "1.234,5", "1234.5"),
        (Transform(thousands=","), "1,234,567.89", "1234567.89"),
        (Transform(), "1 234", "1234"),
        (Transform(), "1\u00a0234", "1234"),
        (Transform(thousands="'"), "12'345", "12345"),
        (Transform(), "४५.५", "45.5"),  # Devanagari digits
        (Transform(), "৪৫", "45"),  # Bengali digits
        (Transform(), "\u22123.5", "-3.5"),
        (Transform(multiply=1000), "1.25", "1250.00"),
        (Transform(round=1), "0.25", "0.3"),
        (Transform(round=0, multiply=100), "0.455", "46"),
    ],
)
def test_numbers_are_read_as_written(transform: Transform, text: str, expected: str) -> None:
    assert format(transform.apply(transform.parse(text)), "f") == expected


@pytest.mark.parametrize(
    ("transform", "text", "hint"),
    [
        (
            Transform(),
            "12,5,3",
            "if ',' separates decimals, set transform.decimal: ','; if it separates "
            "thousands, set transform.thousands: ','",
        ),
        (Transform(decimal=","), "12,5,3", "write numbers like 1234,5"),
        (Transform(), "45%", "if the column holds percentages, set transform.percent: true"),
        (Transform(), "n/a", "if 'n/a' means a missing value, add it to missing.markers"),
        (Transform(), "12 kg", "write only the number: units go in UNIT_MEASURE, notes in COMMENT_OBS"),
        (Transform(thousands=","), "12,34", "write numbers like 1234.5 or 1,234.5"),
    ],
)
def test_unreadable_numbers_say_what_to_change(transform: Transform, text: str, hint: str) -> None:
    with pytest.raises(NumberError) as caught:
        transform.parse(text)
    assert caught.value.hint == hint


# --- mapping long and wide tables -----------------------------------------------------------------


def test_long_table_with_swahili_labels(registry: Registry) -> None:
    rows = [
        ["Nairobi City", "Mwanamke", "Walemavu", "2021", "45,5%", "1 234"],
        ["Mombasa", " mwanaume", "Vijana", "2021", "38%", "200"],  # folded label, Swahili code name
        ["Kaunti ya Kisumu", "", "Wakazi wa mitaa ya mabanda", "2021", "", "50"],  # blank sex, blank value
        ["KE-30", "F", "PWD", "2022", "N/A", "12"],  # code ids, marker in another case
        ["Nairobi City", "Female", "Persons with disabilities", "2022", "..", ""],  # names; skipped value
        ["", "", "", "", "", ""],  # spacer row
    ]
    result = apply_mapping(table(KENYA_HEADER, rows), spec(KENYA), registry)
    assert result.problems == []
    assert [
        (r.key["SUBNATIONAL"], r.key["SEX"], r.key["POP_GROUP"], r.time_period, r.value) for r in result.records
    ] == [
        ("KE-30", "F", "PWD", "2021", "45.5"),
        ("KE-28", "M", "YOUTH", "2021", "38"),
        ("KE-17", "_T", "KE_SLUM", "2021", None),
        ("KE-30", "F", "PWD", "2022", None),
    ]
    first, _, blank, marker = result.records
    assert first.key == {
        "FREQ": "A", "REPORTING_TYPE": "N", "SERIES": "SI_POV_DAY1", "REF_AREA": "404", "SEX": "F", "AGE": "_T",
        "URBANISATION": "_T", "INCOME_WEALTH_QUANTILE": "_T", "EDUCATION_LEV": "_T", "OCCUPATION": "_T",
        "CUST_BREAKDOWN": "_T", "COMPOSITE_BREAKDOWN": "_T", "DISABILITY_STATUS": "_T", "ACTIVITY": "_T",
        "PRODUCT": "_T", "POP_GROUP": "PWD", "SUBNATIONAL": "KE-30",
    }  # fmt: skip
    assert first.obs_attributes == {"UNIT_MULT": "0", "OBS_STATUS": "A", "NATURE": "CG", "SAMPLE_SIZE": "1234"}
    assert first.series_attributes == {"UNIT_MEASURE": "PT"}
    assert first.location == Location(row=2, column="E (Thamani)")
    assert first.lineage == {
        "SUBNATIONAL": ("A (Kaunti)", "Nairobi City"),
        "SEX": ("B (Jinsia)", "Mwanamke"),
        "POP_GROUP": ("C (Kundi)", "Walemavu"),
        "TIME_PERIOD": ("D (Mwaka)", "2021"),
        "SAMPLE_SIZE": ("F (Sample size)", "1 234"),
        "OBS_VALUE": ("E (Thamani)", "45,5%"),
    }
    assert blank.obs_attributes["OBS_STATUS"] == "L" and blank.lineage["SEX"] == ("B (Jinsia)", "")
    assert marker.obs_attributes["OBS_STATUS"] == "M"
    assert "SAMPLE_SIZE" in marker.obs_attributes
    report = validate(registry, result)
    assert report.ok, report.summary()
    assert report.observations == 4


def test_wide_table_years_melted_with_decimal_commas(registry: Registry) -> None:
    kenya = spec(KENYA)
    del kenya.columns["Mwaka"], kenya.columns["Thamani"]
    european = Transform(decimal=",", thousands=".")
    kenya.melt = Melt(pattern=r"\d{4}", to="TIME_PERIOD", transform=european)
    kenya.columns["Sample size"].transform = european
    wide = table(
        ["Kaunti", "Jinsia", "Kundi", "Sample size", "2019", "2020", "2021"],
        [
            ["Mombasa", "Jumla", "Walemavu", "1.200", "1.234,5", "n/a", ""],
            ["Mombasa", "Mwanamke", "Walemavu", "600", "12,25", "..", "13"],
        ],
    )
    result = apply_mapping(wide, kenya, registry)
    assert result.problems == []
    assert [(r.key["SEX"], r.time_period, r.value, r.obs_attributes["OBS_STATUS"]) for r in result.records] == [
        ("_T", "2019", "1234.5", "A"),
        ("_T", "2020", None, "M"),
        ("_T", "2021", None, "L"),
        ("F", "2019", "12.25", "A"),
        ("F", "2021", "13", "A"),
    ]
    assert result.records[1].location == Location(row=2, column="F (2020)")
    assert result.records[1].lineage["TIME_PERIOD"] == ("F (2020)", "2020")
    assert result.records[0].obs_attributes["SAMPLE_SIZE"] == "1200"
    assert validate(registry, result).ok


def test_wide_table_groups_melted_with_nepali_headers_and_bengali_labels(registry: Registry) -> None:
    nepal = spec(
        """
        spec_version: 1
        id: np-ward-scorecard
        version: "2.0"
        dataflow: LNOB:DF_LNOB(1.0)
        constants: {FREQ: A, REPORTING_TYPE: N, REF_AREA: "524", SERIES: SI_POV_DAY1, UNIT_MEASURE: PT,
                    UNIT_MULT: "0", OBS_STATUS: A, TIME_PERIOD: "2023"}
        columns:
          प्रदेश: {component: SUBNATIONAL}
          Score type: {ignore: true}
        melt:
          columns: [दलित, मधेसी, Janajati]
          to: POP_GROUP
          codes: {Janajati: NP_JANAJATI}
        defaults: _T
        """
    )
    wide = table(
        ["प्रदेश", "Score type", "दलित", "मधेसी", "Janajati"],
        [["मधेश प्रदेश", "community", "४५", "52", "61"], ["Koshi Province", "official", "40", "", "58"]],
    )
    nepal.missing = Missing(blank="skip")
    result = apply_mapping(wide, nepal, registry)
    assert result.problems == []
    assert [(r.key["SUBNATIONAL"], r.key["POP_GROUP"], r.value) for r in result.records] == [
        ("NP-P2", "NP_DALIT", "45"),
        ("NP-P2", "NP_MADHESI", "52"),
        ("NP-P2", "NP_JANAJATI", "61"),
        ("NP-P1", "NP_DALIT", "40"),
        ("NP-P1", "NP_JANAJATI", "58"),
    ]
    assert validate(registry, result).ok

    bangladesh = spec(
        """
        spec_version: 1
        id: bd-service-access
        version: "1.0"
        dataflow: LNOB:DF_LNOB(1.0)
        constants: {FREQ: A, REPORTING_TYPE: N, REF_AREA: "50", SERIES: SI_POV_DAY1, UNIT_MEASURE: PT,
                    UNIT_MULT: "0", OBS_STATUS: A, NATURE: CG}
        columns:
          গোষ্ঠী: {component: POP_GROUP}
          বছর: {component: TIME_PERIOD}
          মান: {component: OBS_VALUE, transform: {percent: true}}
        defaults: _T
        """
    )
    long = table(
        ["গোষ্ঠী", "বছর", "মান"],
        [["দলিত", "২০২২", "৩৫%"], ["হিজড়া", "2022", "12.5%"], ["ভাসমান মানুষ", "2022", "8%"]],
    )
    result = apply_mapping(long, bangladesh, registry)
    assert [(r.key["POP_GROUP"], r.value) for r in result.records] == [
        ("BD_DALIT", "35"),
        ("BD_TG", "12.5"),
        ("BD_STREET", "8"),
    ]
    assert result.problems == []
    assert result.records[0].time_period == "2022"  # Bengali digits
    assert result.records[0].lineage["TIME_PERIOD"] == ("B (বছর)", "২০২২")
    assert validate(registry, result).ok


# --- problems -------------------------------------------------------------------------------------


def test_row_problems_have_row_column_value_and_hint(registry: Registry) -> None:
    rows = [
        ["Nairobi", "Wanawake", "Walemavu", "2021", "12,5,3", "10"],
        ["Nairobi City", "Mwanamke", "Walemavu", "2021", "120%", "10"],
        ["Nairobi City", "Mwanamke", "Walemavu", "", "", "ten"],
    ]
    kenya = spec(KENYA)
    kenya.missing = None
    result = apply_mapping(table(KENYA_HEADER, rows), kenya, registry)
    assert [(p.rule, p.severity, p.location, p.component, p.value) for p in result.problems] == [
        ("unmapped-label", "error", Location(row=2, column="A (Kaunti)"), "SUBNATIONAL", "Nairobi"),
        ("unmapped-label", "error", Location(row=2, column="B (Jinsia)"), "SEX", "Wanawake"),
        ("not-a-number", "error", Location(row=2, column="E (Thamani)"), "OBS_VALUE", "12,5,3"),
        ("percent-over-100", "warning", Location(row=3, column="E (Thamani)"), "OBS_VALUE", "120%"),
        ("blank-cell", "error", Location(row=4, column="D (Mwaka)"), "TIME_PERIOD", ""),
        ("not-a-number", "error", Location(row=4, column="F (Sample size)"), "SAMPLE_SIZE", "ten"),
        ("blank-value", "warning", Location(row=4, column="E (Thamani)"), "OBS_VALUE", ""),
    ]
    county, sex, number, percent, blank_cell, _, blank_value = result.problems
    assert (
        county.message == "'Nairobi' is neither in columns.Kaunti.codes nor a code or name of LNOB:CL_SUBNATIONAL(1.0)"
    )
    assert county.hint == (
        'add it to columns.Kaunti.codes, e.g. "Nairobi": KE-30; closest codes: KE-30 (Nairobi City), KE-33 (Narok), '
        "KE-34 (Nyamira)"
    )
    assert sex.hint == (
        'add it to columns.Jinsia.codes, e.g. "Wanawake": CODE; codes of IAEG-SDGs:CL_SEX(1.1): '
        "_T (Both sexes or no breakdown by sex), F (Female), M (Male), _N (Non response), _O (Other), "
        "_U (Unknown), _X (Not available)"
    )
    assert number.hint == "write numbers like 1234,5"
    assert percent.hint == "check the value: a share cannot exceed 100% (growth rates can)"
    assert blank_cell.hint == (
        "fill the cell, or add blank: CODE to columns.Mwaka (or a default for the component in defaults)"
    )
    assert blank_value.message == "blank cell: say what it means in `missing`; no observation was made of it"
    # only the row without errors gives an observation (the warning does not stop it)
    assert [(r.location.row, r.value) for r in result.records] == [(3, "120")]
    assert not result.ok


def test_unmapped_series_label_suggests_by_indicator_number(registry: Registry) -> None:
    loaded = spec(KENYA)
    del loaded.constants["SERIES"]
    loaded.columns["Indicator"] = Column(component="SERIES")
    rows = [["Nairobi City", "Mwanamke", "Walemavu", "2021", "4%", "10", "Under 5 mortality (3.2.1)"]]
    result = apply_mapping(table([*KENYA_HEADER, "Indicator"], rows), loaded, registry)
    (problem,) = result.problems
    assert problem.location == Location(row=2, column="G (Indicator)")
    assert problem.hint is not None
    assert problem.hint.startswith(
        'add it to columns.Indicator.codes, e.g. "Under 5 mortality (3.2.1)": SH_DYN_MORT; closest codes: '
        "SH_DYN_MORT (Under-five mortality rate [3.2.1])"
    )


def test_conflicting_columns_for_one_component(registry: Registry) -> None:
    kenya = spec(KENYA)
    kenya.columns["Sex (English)"] = Column(component="SEX", optional=True)
    rows = [
        ["Nairobi City", "Mwanamke", "Walemavu", "2021", "4%", "10", "Female"],
        ["Nairobi City", "Mwanamke", "Walemavu", "2022", "4%", "10", "Male"],
        ["Nairobi City", "", "Walemavu", "2023", "4%", "10", "Male"],
    ]
    result = apply_mapping(table([*KENYA_HEADER, "Sex (English)"], rows), kenya, registry)
    (problem,) = result.problems
    assert (problem.rule, problem.location, problem.value) == (
        "conflicting-values",
        Location(row=3, column="G (Sex (English))"),
        "Male",
    )
    assert problem.message == "SEX is 'F' from B (Jinsia) but 'M' from this column"
    assert [r.key["SEX"] for r in result.records] == ["F", "M"]


def test_missing_and_unmapped_columns(registry: Registry) -> None:
    header = ["Kaunti", "jinsia ", "Kundi", "Year", "Thamani", "Sample size", "Enumerator"]  # Mwaka renamed
    rows = [["Nairobi City", "Mwanamke", "Walemavu", "2021", "4%", "10", "J. Otieno"]]
    result = apply_mapping(table(header, rows), spec(KENYA), registry)
    missing, unmapped, enumerator = result.problems
    assert (missing.rule, missing.severity, missing.location) == ("missing-column", "error", Location(column="Mwaka"))
    assert missing.message == "columns.Mwaka: the table has no column 'Mwaka'"
    assert missing.hint == "rename the column in the spec, or mark it optional: true"
    assert (unmapped.rule, unmapped.severity, unmapped.location) == (
        "unmapped-column",
        "warning",
        Location(column="D (Year)"),
    )
    assert unmapped.hint == 'add "Year": {component: TIME_PERIOD} to columns, or "Year": {ignore: true}'
    assert enumerator.location == Location(column="G (Enumerator)")
    assert result.records == []  # a missing required column blocks every record

    header[3] = "Mwaka"
    header[1] = "Jinsa"
    result = apply_mapping(table(header, rows), spec(KENYA), registry)
    assert problems(result, "missing-column")[0].hint == (
        "did you mean 'Jinsa'? rename the column in the spec, or mark it optional: true"
    )


def test_spec_problems_block_the_records(registry: Registry) -> None:
    text = (
        KENYA.replace("REF_AREA: 404, ", "")
        .replace("UNIT_MEASURE: PT", "UNIT_MEASURE: PCT")
        .replace("Walemavu: PWD", "Walemavu: PWDS")
        .replace("Maoni: {component: COMMENT_OBS", "Maoni: {component: COMENT_OBS")
        .replace("OBS_STATUS: A, NATURE: CG", "OBS_STATUS: A, NATURE: CG, SEX: F, AGE: '?'")
    )
    rows = [["Nairobi City", "Mwanamke", "Walemavu", "2021", "4%", "10"]]
    result = apply_mapping(table(KENYA_HEADER, rows), spec(text), registry)
    assert [(p.rule, p.severity, p.message) for p in result.problems] == [
        ("spec-unknown-code", "warning", "columns.Kundi.codes.Walemavu: 'PWDS' is not a code of "
         "LNOB:CL_POP_GROUP(1.0) (POP_GROUP); rows with this label will not validate"),
        ("spec-unknown-component", "warning", "columns.Maoni.component: COMENT_OBS is not a component of "
         "LNOB:DSD_LNOB(1.0) (the table has no such column)"),
        ("spec-unknown-code", "error", "constants.UNIT_MEASURE: 'PCT' is not a code of "
         "IAEG-SDGs:CL_UNIT_MEASURE(1.8) (UNIT_MEASURE)"),
        ("spec-todo", "error", "constants.AGE: still marked '?'"),
        ("spec-conflict", "error", "SEX is given by columns.Jinsia.component and by constants.SEX"),
        ("no-source", "error", "REF_AREA has no column, constant or default (_T is not a code of "
         "IAEG-SDGs:CL_AREA(1.14))"),
    ]  # fmt: skip
    hints = {p.message.split(":")[0]: p.hint for p in result.problems}
    assert hints["columns.Maoni.component"] == "did you mean COMMENT_OBS or COMMENT_TS?"
    assert hints["constants.UNIT_MEASURE"] == "did you mean PT? (codes of IAEG-SDGs:CL_UNIT_MEASURE(1.8))"
    assert hints["REF_AREA has no column, constant or default (_T is not a code of IAEG-SDGs"] == (
        "add it to constants (e.g. REF_AREA: 1) or map a column to it"
    )
    assert result.records == [] and not result.ok
    assert problems(check_spec(spec(text), registry), "spec-unknown-component")[0].message.endswith(
        "(the column is optional: an error once a table has it)"
    )


def test_unknown_dataflow(registry: Registry) -> None:
    loaded = spec(KENYA.replace("LNOB:DF_LNOB(1.0)", "LNOB:DF_LNOB(2.0)"))
    result = apply_mapping(table(KENYA_HEADER, []), loaded, registry)
    (problem,) = result.problems
    assert (problem.rule, problem.value) == ("spec-unknown-dataflow", "LNOB:DF_LNOB(2.0)")
    assert problem.hint == "did you mean LNOB:DF_LNOB(1.0) or LNOB:DF_SDG_LNOB(1.0)?"
    assert result.dataflow is None and result.records == []
    latest = spec(KENYA.replace("LNOB:DF_LNOB(1.0)", "LNOB:DF_LNOB"))
    assert check_spec(latest, registry) == []


def test_measure_and_melt_need_exactly_one_source(registry: Registry) -> None:
    without = spec(KENYA.replace("Thamani: {component: OBS_VALUE", "Thamani: {component: COMMENT_OBS"))
    (problem,) = [p for p in check_spec(without, registry) if p.severity == "error"]
    assert (problem.rule, problem.message) == ("no-source", "no column holds the measure OBS_VALUE")
    both = spec(KENYA + "    melt: {columns: ['2019'], to: TIME_PERIOD}\n")
    assert {p.rule for p in check_spec(both, registry)} == {"spec-conflict"}


def test_defaults_per_component_and_constants(registry: Registry) -> None:
    text = KENYA.replace("defaults: _T", "defaults: {'*': _T, AGE: Y15T24, CONF_STATUS: F}").replace(
        "Kundi: {component: POP_GROUP, codes: {Walemavu: PWD}}", "Kundi: {component: POP_GROUP, optional: true}"
    )
    rows = [["Nairobi City", "Mwanamke", "2021", "4%", "10"]]
    result = apply_mapping(table(["Kaunti", "Jinsia", "Mwaka", "Thamani", "Sample size"], rows), spec(text), registry)
    assert result.problems == []
    (record,) = result.records
    assert (record.key["AGE"], record.key["POP_GROUP"], record.key["REF_AREA"]) == ("Y15T24", "_T", "404")
    assert record.obs_attributes["CONF_STATUS"] == "F"
    assert "POP_GROUP" not in record.lineage  # defaults are not taken from the table
    assert validate(registry, result).ok


def test_todo_labels_of_a_drafted_spec_are_reported(registry: Registry) -> None:
    text = KENYA.replace("Mwanamke: F", "Mwanamke: '?'")
    rows = [["Nairobi City", "Mwanamke", "Walemavu", "2021", "4%", "10"]]
    (problem,) = apply_mapping(table(KENYA_HEADER, rows), spec(text), registry).problems
    assert (problem.rule, problem.message) == (
        "unmapped-label",
        "'Mwanamke' is still marked '?' in columns.Jinsia.codes",
    )


# --- suggestions ----------------------------------------------------------------------------------


def test_suggest_components_from_headers_and_values(registry: Registry) -> None:
    dsd = registry.structure_of(registry.dataflow(Ref("dataflow", "LNOB", "DF_LNOB", "1.0")))

    def best(header: str, values: list[str] = []) -> tuple[str, str | None]:  # noqa: B006
        top = suggest_components(header, registry, dsd, values)[0]
        return top.id, top.code

    assert best("Jinsia", ["Mwanamke"]) == ("SEX", None)
    assert best("Mwaka", ["2021"]) == ("TIME_PERIOD", None)
    assert best("Observation status") == ("OBS_STATUS", None)
    assert best("Units") == ("UNIT_MEASURE", None)
    assert best("County") == ("SUBNATIONAL", None)
    assert best("Column C", ["Kaunti ya Kisumu", "Nairobi City"]) == ("SUBNATIONAL", None)
    assert best("2019", ["45%"]) == ("TIME_PERIOD", "2019")
    assert best("Female") == ("SEX", "F")
    assert best("दलित", ["12"]) == ("POP_GROUP", "NP_DALIT")
    assert best("Under-five mortality rate [3.2.1]") == ("SERIES", "SH_DYN_MORT")


def test_suggest_codes_across_case_accents_word_order_and_annotations(registry: Registry) -> None:
    series = codelist(registry, "IAEG-SDGs", "CL_SERIES", "1.14")
    top = suggest_codes("under five mortality rate", series)[0]
    assert (top.id, top.reason) == ("SH_DYN_MORT", "name 'Under-five mortality rate [3.2.1]'")
    assert [c.id for c in suggest_codes("3.2.1", series, limit=5)] == [  # every series of indicator 3.2.1
        "SH_DYN_IMRT", "SH_DYN_IMRTN", "SH_DYN_MORT", "SH_DYN_MORTN",
    ]  # fmt: skip
    assert suggest_codes("Mortality rate, under-five (3.2.1)", series)[0].id == "SH_DYN_MORT"
    areas = codelist(registry, "LNOB", "CL_SUBNATIONAL", "1.0")
    assert suggest_codes("CITY NAIROBI", areas)[0].id == "KE-30"  # word order, case
    assert (suggest_codes("County 01", areas)[0].id, suggest_codes("County 01", areas)[0].reason) == (
        "KE-28",
        "national code 01",
    )
    groups = CodeMatcher(codelist(registry, "LNOB", "CL_POP_GROUP", "1.0"))
    assert groups.lookup("nguoi h'mong") == "VN_HMONG"  # accents and case
    assert groups.lookup("दलित") == "NP_DALIT" and groups.lookup("দলিত") == "BD_DALIT"
    assert groups.rank("Dalit women")[0].id == "NP_DALIT"
    assert fold("Người  H'Mông") == "nguoi h'mong" and fold("दलित") == "दलित"
    area = CodeMatcher(codelist(registry, "IAEG-SDGs", "CL_AREA", "1.14"))
    assert area.lookup("Kenya") is None  # 404 and KE are both named Kenya: never guess
    assert [c.id for c in area.rank("Kenya", limit=2)] == ["404", "KE"]
    assert area.hint("Kenia").startswith("did you mean 404 or KE")  # the CodeIndex API still works


def test_draft_spec_for_a_wide_table(registry: Registry) -> None:
    wide = table(
        ["County", "Jinsia", "2019", "2020", "2021", "Notes"],
        [
            ["Nairobi City", "Female", "45%", "50%", ""],
            ["Mombasa", "Mwanamke", "n/a", "30%", "31,5%", "estimate"],
        ],
    )
    draft = draft_spec(wide, registry, "LNOB:DF_LNOB(1.0)")
    assert draft.melt == Melt(
        to="TIME_PERIOD", columns=["2019", "2020", "2021"], transform=Transform(percent=True, decimal=",")
    )
    assert draft.columns["County"].codes == {"Nairobi City": "KE-30", "Mombasa": "KE-28"}
    assert draft.columns["Jinsia"] == Column(component="SEX", codes={"Female": "F", "Mwanamke": "?"})
    assert draft.columns["Notes"].component == "COMMENT_OBS"
    assert draft.constants == {
        "FREQ": "A", "REPORTING_TYPE": "N", "SERIES": "?", "REF_AREA": "?", "OBS_STATUS": "A", "UNIT_MULT": "0",
        "UNIT_MEASURE": "PT", "NATURE": "CG",
    }  # fmt: skip
    assert draft.missing == Missing(blank={"OBS_STATUS": "?"}, markers={"n/a": {"OBS_STATUS": "?"}})
    assert draft.defaults == "_T"
    text = dump_spec(draft)
    assert "Mwanamke: '?'" in text
    assert load_spec(text) == draft
    jsonschema.validate(yaml.safe_load(text), spec_json_schema())
    todo = {p.message for p in check_spec(draft, registry) if p.rule == "spec-todo"}
    assert todo == {
        "constants.SERIES: still marked '?'",
        "constants.REF_AREA: still marked '?'",
        "missing.blank.OBS_STATUS: still marked '?'",
        "missing.markers[\"n/a\"].OBS_STATUS: still marked '?'",
    }


# --- sdg-build ------------------------------------------------------------------------------------


def sdg_build_output() -> set[tuple]:
    """(key, period, value, UNIT_MEASURE, observation attributes) of sdg-build's own SDMX output."""
    root = ET.parse(SDG_SAMPLES / "uk-demo_output_structspecific_SDG1.7_3-2-1.xml").getroot()
    found = set()
    for series in root.iter("Series"):
        key = dict(series.attrib)
        unit = key.pop("UNIT_MEASURE")
        for obs in series.iter("Obs"):
            attrs = dict(obs.attrib)
            period, value = attrs.pop("TIME_PERIOD"), attrs.pop("OBS_VALUE")
            found.add((tuple(sorted(key.items())), period, value, unit, tuple(sorted(attrs.items()))))
    return found


def csv_table(name: str) -> InputTable:
    rows = list(csv.reader(io.StringIO((SDG_SAMPLES / name).read_text(encoding="utf-8"))))
    return table(rows[0], rows[1:])


def test_sdg_build_import_reproduces_its_sdmx_output(registry: Registry) -> None:
    imported = import_sdg_build(
        (SDG_SAMPLES / "uk-demo_column_mapping.csv").read_bytes(),
        (SDG_SAMPLES / "uk-demo_code_mapping.csv").read_bytes(),
        GLOBAL_FLOW,
        {"REF_AREA": "826"},
    )
    assert imported.columns["Sex"] == Column(component="SEX", optional=True)
    assert imported.columns["Year"] == Column(component="TIME_PERIOD")
    assert imported.codes["SERIES"]["Under-five mortality rate [3.2.1]"] == "SH_DYN_MORT"
    assert imported.constants == {"REF_AREA": "826"}
    text = dump_spec(imported)
    assert load_spec(text) == imported
    jsonschema.validate(yaml.safe_load(text), spec_json_schema())

    result = apply_mapping(csv_table("uk-demo_input_indicator_3-2-1.csv"), imported, registry)
    mapped = {
        (tuple(sorted(r.key.items())), r.time_period, r.value, r.series_attributes["UNIT_MEASURE"],
         tuple(sorted(r.obs_attributes.items())))
        for r in result.records
    }  # fmt: skip
    assert len(result.records) == 51
    assert mapped == sdg_build_output()
    # the two codes of the code map that DSD 1.14 does not have are reported, not dropped silently
    invalid = problems(result, "spec-unknown-code")
    assert [(p.severity, p.component, p.value, p.hint) for p in invalid] == [
        ("warning", "UNIT_MEASURE", "PTC", "did you mean PT? (codes of IAEG-SDGs:CL_UNIT_MEASURE(1.8))"),
        ("warning", "SERIES", "SG_XPD_ESED", "did you mean SD_XPD_ESED or GB_XPD_RSDV or SD_XPD_ESSRV? "
         "(codes of IAEG-SDGs:CL_SERIES(1.14))"),
    ]  # fmt: skip
    assert invalid[1].message.startswith(
        'codes.SERIES["Proportion of total government spending on essential services, education"]: '
    )
    assert result.problems == invalid
    report = validate(registry, result)
    assert report.ok, report.summary()
    assert report.series == 3


def test_sdg_build_rows_with_invalid_codes_fail_validation_at_their_row(registry: Registry) -> None:
    imported = import_sdg_build(
        (SDG_SAMPLES / "uk-demo_column_mapping.csv").read_bytes(),
        (SDG_SAMPLES / "uk-demo_code_mapping.csv").read_bytes(),
        GLOBAL_FLOW,
        {"REF_AREA": "826"},
    )
    header = ["Year", "Units", "Series", "Value"]
    series = "Proportion of total government spending on essential services, education"
    rows = [["2020", "Percentage change (%)", series, "12.5"]]
    result = apply_mapping(table(header, rows), imported, registry)
    errors = [(p.rule, p.component, p.location) for p in validate(registry, result).problems]
    assert errors == [
        ("unknown-code", "SERIES", Location(row=2, column="C (Series)")),
        ("unknown-code", "UNIT_MEASURE", Location(row=2, column="B (Units)")),
    ]


def test_ons_maps_import(registry: Registry) -> None:
    imported = import_sdg_build(
        (SDG_SAMPLES / "ons_column_mapping.csv").read_bytes(),
        (SDG_SAMPLES / "ons_code_mapping.csv").read_bytes(),
        GLOBAL_FLOW,
        {"REF_AREA": "826"},
    )
    assert imported.columns["Level of government"].component == "COMPOSITE_BREAKDOWN"
    (problem,) = check_spec(imported, registry)  # every ONS code is valid; AREA is not a DSD component
    assert (problem.rule, problem.severity, problem.location) == (
        "spec-unknown-component",
        "warning",
        Location(column="Area"),
    )
    rows = [["2020", "Female", "Urban", "Estimated value", "Units", "12.5"]]
    header = ["Year", "Sex", "Urban or Rural", "Observation status", "Unit multiplier", "Value"]
    loaded = imported
    loaded.constants["SERIES"] = "SI_POV_DAY1"
    result = apply_mapping(table(header, rows), loaded, registry)
    assert [p.rule for p in result.problems] == ["spec-unknown-component"]
    (record,) = result.records
    assert (record.key["SEX"], record.key["URBANISATION"], record.obs_attributes) == (
        "F",
        "U",
        {"UNIT_MULT": "0", "OBS_STATUS": "E"},
    )
    assert record.series_attributes == {"UNIT_MEASURE": "NUMBER"}  # sdg-build's default
    area = apply_mapping(table([*header, "Area"], [[*rows[0], "Wales"]]), loaded, registry)
    assert [(p.rule, p.severity) for p in area.problems] == [("spec-unknown-component", "error")]
    assert area.records == []


def test_sdg_build_maps_must_have_their_columns() -> None:
    with pytest.raises(SpecError, match="expected the columns Text, Dimension, Value; missing Dimension"):
        import_sdg_build(b"Text,Value\nSex,SEX\n", b"Text,Value\nMale,M\n", GLOBAL_FLOW, {})
    with pytest.raises(SpecError) as caught:
        import_sdg_build(b"Text,Value\nSex,\n", b"Text,Dimension,Value\n", GLOBAL_FLOW, {})
    assert [str(i) for i in caught.value.issues] == ["column_map line 2: empty Value"]


def test_lineage_is_optional_on_records() -> None:
    record = ObservationRecord({"FREQ": "A"}, "2020", "1")
    assert record.lineage == {}
