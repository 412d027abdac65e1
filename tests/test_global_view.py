"""The published mapping from LNOB:DF_LNOB to the global SDG view LNOB:DF_SDG_LNOB (mappings/global_view.py)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from codelists.loader import bundled_artefacts
from exchange.db import get_engine, session_scope
from exchange.demo import COALITIONS, demo_records
from exchange.formats.data_message import SeriesBlock
from exchange.formats.records import DataMessage, ObservationRecord
from exchange.formats.structure_message import Header, StructureEntry, render_structures
from exchange.query.params import QuerySyntaxError
from exchange.structures.model import (
    Artefact,
    Codelist,
    ComponentMap,
    Ref,
    RepresentationMap,
    StructureMap,
)
from exchange.structures.readers import read_structures
from exchange.structures.registry import Registry
from exchange.structures.store import load_registry, save_artefacts
from exchange.validation.validator import ValidatedData, Validator
from mappings.global_view import GlobalView, SourcedBlock, global_view_artefacts
from tests.conformance import validate_sdmx_json, validate_sdmx_ml

SDG_DIMENSIONS = (
    "FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "URBANISATION", "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV", "OCCUPATION", "CUST_BREAKDOWN", "COMPOSITE_BREAKDOWN", "DISABILITY_STATUS", "ACTIVITY", "PRODUCT",
)  # fmt: skip
LNOB_DIMENSIONS = (*SDG_DIMENSIONS, "POP_GROUP", "SUBNATIONAL")
GLC = Ref("dataflow", "IAEG-SDGs", "DF_SDG_GLC", "1.22")
SDG_LNOB = Ref("dataflow", "LNOB", "DF_SDG_LNOB", "1.0")
LNOB = Ref("dataflow", "LNOB", "DF_LNOB", "1.0")
NEPAL = ("LNOB", "NPL")
KENYA = ("LNOB", "KEN")


def canonical(values: dict[str, str]) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(bundled_artefacts())


@pytest.fixture(scope="module")
def artefacts(registry: Registry) -> list[Artefact]:
    return global_view_artefacts(registry)


@pytest.fixture(scope="module")
def view(registry: Registry) -> GlobalView:
    return GlobalView(registry)


def by_id(artefacts: list[Artefact]) -> dict[str, Artefact]:
    return {a.id: a for a in artefacts}


# --- the artefacts ----------------------------------------------------------------------------------


def test_artefacts_are_final_lnob_1_0_with_english_texts(artefacts: list[Artefact]) -> None:
    assert [(a.type, a.id) for a in artefacts] == [
        ("representationmap", "RM_POP_GROUP_TO_CUST_BREAKDOWN"),
        ("representationmap", "RM_NATURE_EXT_TO_NATURE"),
        ("representationmap", "RM_OBS_STATUS_CITIZEN"),
        ("structuremap", "SM_LNOB_TO_SDG"),
    ]
    for a in artefacts:
        assert (a.agency, a.version, a.is_final) == ("LNOB", "1.0", True)
        assert a.name["en"] and len(a.description["en"]) > 200


def test_population_groups_get_fixed_generic_codes_in_codelist_order(
    registry: Registry, artefacts: list[Artefact]
) -> None:
    rm = by_id(artefacts)["RM_POP_GROUP_TO_CUST_BREAKDOWN"]
    assert isinstance(rm, RepresentationMap)
    assert rm.sources == [Ref("codelist", "LNOB", "CL_POP_GROUP", "1.0")]
    assert rm.targets == [Ref("codelist", "IAEG-SDGs", "CL_CUST_BREAKDOWN", "1.14")]
    groups = [i.id for i in registry.codelist(rm.sources[0]).items]
    cust = {i.id for i in registry.codelist(rm.targets[0]).items}
    pairs = [(m.source, m.target) for m in rm.mappings]
    assert [s[0] for s, _ in pairs] == groups  # every group, in codelist order
    assert pairs[0] == (["_T"], ["_T"])
    assert [t[0] for _, t in pairs[1:]] == [f"C{n:02d}" for n in range(1, len(groups))]
    assert dict((s[0], t[0]) for s, t in pairs)["PWD"] == "C01"
    assert all(t[0] in cust for _, t in pairs)
    assert global_view_artefacts(registry)[0] == rm  # deterministic


def test_nature_map_keeps_sdg_codes_and_sends_citizen_data_to_not_available(
    registry: Registry, artefacts: list[Artefact]
) -> None:
    rm = by_id(artefacts)["RM_NATURE_EXT_TO_NATURE"]
    assert isinstance(rm, RepresentationMap)
    assert rm.sources == [Ref("codelist", "LNOB", "CL_NATURE_EXT", "1.0")]
    assert rm.targets == [Ref("codelist", "IAEG-SDGs", "CL_NATURE", "1.0")]
    table = {m.source[0]: m.target[0] for m in rm.mappings}
    assert table == {"C": "C", "CA": "CA", "E": "E", "G": "G", "M": "M", "N": "N", "_X": "_X", "CG": "_X"}
    assert "CG (citizen-generated data) maps to _X" in rm.description["en"]


def test_obs_status_map_flags_normal_values_as_experimental(registry: Registry, artefacts: list[Artefact]) -> None:
    rm = by_id(artefacts)["RM_OBS_STATUS_CITIZEN"]
    assert isinstance(rm, RepresentationMap)
    assert rm.sources == rm.targets == [Ref("codelist", "SDMX", "CL_OBS_STATUS", "2.1")]
    codes = [i.id for i in registry.codelist(rm.sources[0]).items]
    table = {m.source[0]: m.target[0] for m in rm.mappings}
    assert list(table) == codes
    assert table == {c: "G" if c == "A" else c for c in codes}


def test_structure_map_links_the_dataflows_component_by_component(artefacts: list[Artefact]) -> None:
    sm = by_id(artefacts)["SM_LNOB_TO_SDG"]
    assert isinstance(sm, StructureMap)
    assert (sm.source, sm.target) == (LNOB, SDG_LNOB)
    maps = {tuple(m.target): m for m in sm.component_maps}
    for dim in SDG_DIMENSIONS:
        if dim != "CUST_BREAKDOWN":
            assert maps[(dim,)] == ComponentMap(source=[dim], target=[dim])
    rm = "representationmap"
    assert maps[("CUST_BREAKDOWN",)] == ComponentMap(
        ["POP_GROUP"], ["CUST_BREAKDOWN"], Ref(rm, "LNOB", "RM_POP_GROUP_TO_CUST_BREAKDOWN", "1.0")
    )
    assert maps[("NATURE",)] == ComponentMap(["NATURE"], ["NATURE"], Ref(rm, "LNOB", "RM_NATURE_EXT_TO_NATURE", "1.0"))
    assert maps[("OBS_STATUS",)] == ComponentMap(
        ["OBS_STATUS"], ["OBS_STATUS"], Ref(rm, "LNOB", "RM_OBS_STATUS_CITIZEN", "1.0")
    )
    assert len(maps) == len(sm.component_maps)  # one rule per target component
    sources = {s for m in sm.component_maps for s in m.source}
    assert not sources & {"SUBNATIONAL", "CONF_STATUS", "SAMPLE_SIZE", "SAMPLE_SIZE_BAND", "PROV_REF"}
    rules = {a.type: a for a in sm.annotations}
    assert {"SUBNATIONAL_RULE", "SOURCE_DETAIL_RULE"} <= set(rules)
    assert "SUBNATIONAL = _T" in rules["SUBNATIONAL_RULE"].text["en"]
    assert "weights" in rules["SUBNATIONAL_RULE"].text["en"]
    assert rules["SOURCE_DETAIL_RULE"].title == "Citizen-generated data: <provider name>, LNOB release <n>"
    assert "CUST_BREAKDOWN_LB" in rules["SOURCE_DETAIL_RULE"].text["en"]


def test_every_reference_resolves(registry: Registry, artefacts: list[Artefact]) -> None:
    combined = Registry([*bundled_artefacts(), *artefacts])
    for artefact in artefacts:
        for ref in artefact.references():
            assert combined.get(ref) is not None, f"{artefact.ref} → {ref}"
    for artefact in artefacts:
        if isinstance(artefact, RepresentationMap):
            for mapping in artefact.mappings:
                source = registry.codelist(artefact.sources[0])
                target = registry.codelist(artefact.targets[0])
                assert isinstance(source, Codelist) and isinstance(target, Codelist)
                assert source.item(mapping.source[0]) and target.item(mapping.target[0])


def test_artefacts_pass_the_store_reference_checks(db_url: str, artefacts: list[Artefact]) -> None:
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        result = save_artefacts(session, list(artefacts))
    assert set(result.created + result.unchanged) == {a.ref for a in artefacts}
    with session_scope(engine) as session:
        stored = load_registry(session)
    assert [stored.get(a.ref) for a in artefacts] == artefacts
    assert GlobalView(stored).pop_group_to_cust["PWD"] == "C01"


@pytest.mark.parametrize("fmt", ["ml30", "json20"])
def test_artefacts_render_schema_valid_and_read_back(fmt: str, artefacts: list[Artefact]) -> None:
    header = Header("LNOB_GLOBAL_VIEW", datetime(2025, 6, 1, tzinfo=UTC))
    data = render_structures(fmt, [StructureEntry(a) for a in artefacts], header)
    if fmt == "ml30":
        validate_sdmx_ml(data, "3.0")
    else:
        validate_sdmx_json(data, "structure", "2.0")
    back = {a.ref: a for a in read_structures(data)}
    for artefact in artefacts:
        read = back[artefact.ref]
        assert read.annotations == artefact.annotations
        assert [read.name, read.description] == [artefact.name, artefact.description]
        if isinstance(artefact, RepresentationMap):
            assert isinstance(read, RepresentationMap) and read.mappings == artefact.mappings
        else:
            assert isinstance(read, StructureMap) and read.component_maps == artefact.component_maps


# --- data -------------------------------------------------------------------------------------------


def block(obs: list[tuple[str, float | None, dict[str, str]]], series: dict[str, str] | None = None, **key: str):
    base = dict.fromkeys(LNOB_DIMENSIONS, "_T") | {"FREQ": "A", "REPORTING_TYPE": "N"}
    values = base | key
    return SeriesBlock(
        tuple(values[d] for d in LNOB_DIMENSIONS),
        canonical(series or {"UNIT_MEASURE": "PT"}),
        [((period,), value, canonical(attrs)) for period, value, attrs in obs],
    )


def observed(status: str = "A", nature: str = "CG", **extra: str) -> dict[str, str]:
    return {"OBS_STATUS": status, "UNIT_MULT": "0", "NATURE": nature, "CONF_STATUS": "F", **extra}


NOT_COLLECTED = {"OBS_STATUS": "L", "UNIT_MULT": "0", "NATURE": "CG", "COMMENT_OBS": "Not collected in this round"}
SUPPRESSED = {"OBS_STATUS": "Q", "UNIT_MULT": "0", "NATURE": "CG", "CONF_STATUS": "A", "SAMPLE_SIZE": "4"}
NP = {"SERIES": "SE_TOT_CPLR", "REF_AREA": "524"}
KE = {"SERIES": "SI_COV_DISAB", "REF_AREA": "404"}


def partnership_dataset() -> list[SourcedBlock]:
    """Nepal (release 3) and Kenya (release 1) in DF_LNOB: groups, sub-national rows, gaps, suppression."""
    np_source = {"SOURCE_DETAIL": "Ward-level community scorecards", "PROV_REF": "urn:lnob:release:npl-3"}
    nepal = [
        block(
            [
                ("2020", 71.2, observed(SAMPLE_SIZE="1200", **np_source)),
                ("2021", None, NOT_COLLECTED),
                ("2022", 72.0, observed(nature="C", SAMPLE_SIZE_BAND="GE500")),
            ],
            {"UNIT_MEASURE": "PT", "COMMENT_TS": "Community scorecards in 40 wards"},
            **NP,
        ),
        block(  # sensitive group, small base, one suppressed value
            [
                ("2020", 54.1, observed("U", SAMPLE_SIZE="42", SAMPLE_SIZE_BAND="B25_49", **np_source)),
                ("2021", None, SUPPRESSED),
                ("2022", 55.0, observed(SAMPLE_SIZE="61", **np_source)),
            ],
            SEX="F",
            POP_GROUP="NP_DALIT",
            **NP,
        ),
        block([("2022", 63.0, observed())], POP_GROUP="NP_MADHESI", **NP),
        block([("2022", None, SUPPRESSED)], POP_GROUP="LGBTIQ", **NP),  # only suppressed values
        block([("2022", 60.5, observed())], POP_GROUP="NP_JANAJATI", SUBNATIONAL="NP-P2", **NP),
        block([("2022", 69.9, observed())], SUBNATIONAL="NP-P1", **NP),
        block([("2022", 1.0, observed())], CUST_BREAKDOWN="C05", POP_GROUP="NP_DALIT", **NP),
        block([("2022", 2.0, observed())], CUST_BREAKDOWN="C05", **NP),
        block(  # outside CN_SDG_SERIES: basic sanitation is published without a sex breakdown
            [("2022", 48.0, observed())], SERIES="SP_ACS_BSRVSAN", REF_AREA="524", SEX="F", POP_GROUP="NP_DALIT"
        ),
    ]
    kenya = [
        block(
            [("2023", 18.5, observed(SAMPLE_SIZE="310")), ("2024", 19.2, observed("P"))],
            DISABILITY_STATUS="PD",
            POP_GROUP="PWD_SEE",
            **KE,
        ),
        block([("2023", 22.0, observed()), ("2024", None, NOT_COLLECTED)], POP_GROUP="KE_SLUM", **KE),
        block([("2023", 25.3, observed())], POP_GROUP="KE_SLUM", SUBNATIONAL="KE-30", **KE),
    ]
    return [SourcedBlock(b, NEPAL, 3) for b in nepal] + [SourcedBlock(b, KENYA, 1) for b in kenya]


def records(blocks: Iterable[SeriesBlock], dimensions: tuple[str, ...]) -> list[ObservationRecord]:
    found = []
    for b in blocks:
        key = dict(zip(dimensions, b.key, strict=True))
        series = json.loads(b.attributes) if b.attributes else {}
        for (period,), value, attrs in b.observations:
            text = None if value is None else repr(value)
            found.append(ObservationRecord(key, period, text, json.loads(attrs) if attrs else {}, series))
    return found


def validate(registry: Registry, flow: Ref, found: list[ObservationRecord]) -> ValidatedData:
    return Validator(registry, registry.dataflow(flow)).validate(DataMessage(iter(found)))


def test_the_partnership_dataset_is_valid_in_df_lnob(registry: Registry) -> None:
    result = validate(registry, LNOB, records((s.block for s in partnership_dataset()), LNOB_DIMENSIONS))
    assert result.report.ok, [p.describe() for p in result.report.problems]


def test_transform_builds_the_global_series(view: GlobalView) -> None:
    out = {b.key: b for b in view.transform(partnership_dataset())}
    code = view.pop_group_to_cust

    def key(**values: str) -> tuple[str, ...]:
        full = dict.fromkeys(SDG_DIMENSIONS, "_T") | {"FREQ": "A", "REPORTING_TYPE": "N"} | values
        return tuple(full[d] for d in SDG_DIMENSIONS)

    total = key(**NP)
    dalit = key(SEX="F", CUST_BREAKDOWN=code["NP_DALIT"], **NP)
    madhesi = key(CUST_BREAKDOWN=code["NP_MADHESI"], **NP)
    sanitation = key(SERIES="SP_ACS_BSRVSAN", REF_AREA="524", SEX="F", CUST_BREAKDOWN=code["NP_DALIT"])
    blind = key(DISABILITY_STATUS="PD", CUST_BREAKDOWN=code["PWD_SEE"], **KE)
    slum = key(CUST_BREAKDOWN=code["KE_SLUM"], **KE)
    assert list(out) == [total, dalit, madhesi, sanitation, blind, slum]
    assert view.series_dimensions == SDG_DIMENSIONS
    assert code["NP_DALIT"] == "C26" and code["KE_SLUM"] == "C20"

    assert json.loads(out[total].attributes or "") == {
        "UNIT_MEASURE": "PT",
        "COMMENT_TS": "Community scorecards in 40 wards",
    }
    assert json.loads(out[dalit].attributes or "") == {"UNIT_MEASURE": "PT", "CUST_BREAKDOWN_LB": "Dalits (Nepal)"}
    assert json.loads(out[slum].attributes or "")["CUST_BREAKDOWN_LB"] == "Residents of informal settlements (Kenya)"

    nepal = "Citizen-generated data: Nepal LNOB coalition, LNOB release 3"
    rows = [(p, v, json.loads(a or "")) for (p,), v, a in out[total].observations]
    assert rows == [
        (
            "2020",
            71.2,
            {
                "OBS_STATUS": "G",
                "UNIT_MULT": "0",
                "NATURE": "_X",
                "SOURCE_DETAIL": f"{nepal}; Ward-level community scorecards",
            },
        ),
        (
            "2021",
            None,
            {
                "OBS_STATUS": "L",
                "UNIT_MULT": "0",
                "NATURE": "_X",
                "COMMENT_OBS": "Not collected in this round",
                "SOURCE_DETAIL": nepal,
            },
        ),
        ("2022", 72.0, {"OBS_STATUS": "G", "UNIT_MULT": "0", "NATURE": "C", "SOURCE_DETAIL": nepal}),
    ]
    dalit_rows = [(p, v, json.loads(a or "")["OBS_STATUS"]) for (p,), v, a in out[dalit].observations]
    assert dalit_rows == [("2020", 54.1, "U"), ("2022", 55.0, "G")]  # the suppressed 2021 value is left out
    kenya = [json.loads(a or "") for _, _, a in out[blind].observations]
    assert [a["OBS_STATUS"] for a in kenya] == ["G", "P"]
    assert {a["SOURCE_DETAIL"] for a in kenya} == {"Citizen-generated data: Kenya LNOB coalition, LNOB release 1"}
    for b in out.values():
        for _, _, attrs in b.observations:
            assert attrs == canonical(json.loads(attrs or ""))
            assert not {"CONF_STATUS", "SAMPLE_SIZE", "SAMPLE_SIZE_BAND", "PROV_REF"} & set(json.loads(attrs or ""))


def test_transformed_data_pass_the_sdg_validator(registry: Registry, view: GlobalView) -> None:
    found = records(view.transform(partnership_dataset()), SDG_DIMENSIONS)
    assert len(found) == 11
    result = validate(registry, GLC, found)
    assert result.report.ok, [p.describe() for p in result.report.problems]
    # DF_SDG_LNOB also carries LNOB:CN_SDG_SERIES: sanitation by sex is outside it, the rest is inside.
    report = validate(registry, SDG_LNOB, found).report
    assert {(p.rule, p.series_key.split(".")[2]) for p in report.problems if p.series_key} == {
        ("constraint", "SP_ACS_BSRVSAN")
    }
    assert report.error_count == 1 and "LNOB:CN_SDG_SERIES(1.0)" in report.problems[0].message


def test_transform_memoises_attributes_and_leaves_the_input_alone(view: GlobalView) -> None:
    rows = [((str(y),), float(y), canonical(observed(SAMPLE_SIZE=str(100 + y % 3)))) for y in range(2000, 2020)]
    source = SeriesBlock(tuple(dict.fromkeys(LNOB_DIMENSIONS, "_T").values()), None, rows)
    before = list(rows)
    (out,) = view.transform([SourcedBlock(source, NEPAL, 3)])
    assert source.observations == before
    assert len({id(a) for _, _, a in out.observations}) == 1  # one converted string, shared
    assert out.attributes is None


def test_unknown_provider_is_named_by_its_id(view: GlobalView) -> None:
    source = block([("2022", 1.0, {"OBS_STATUS": "A", "UNIT_MULT": "0"})])
    (out,) = view.transform([SourcedBlock(source, ("LNOB", "XYZ"), 7)])
    attrs = json.loads(out.observations[0][2] or "")
    assert attrs["SOURCE_DETAIL"] == "Citizen-generated data: XYZ, LNOB release 7"


def demo_global_blocks(view: GlobalView) -> tuple[list[SeriesBlock], dict[str, str]]:
    """The demo's releases (exchange/demo.py) as partnership blocks, transformed; plus REF_AREA → provider."""
    rng = random.Random(2030)
    sourced = []
    for coalition in COALITIONS:
        blocks: dict[tuple[str, ...], SeriesBlock] = {}
        for rec in demo_records(coalition, rng):
            key = tuple(rec.key[d] for d in LNOB_DIMENSIONS)
            b = blocks.setdefault(key, SeriesBlock(key, canonical(rec.series_attributes)))
            value = None if rec.value is None else float(rec.value)
            b.observations.append(((rec.time_period or "",), value, canonical(rec.obs_attributes)))
        sourced += [SourcedBlock(b, ("LNOB", coalition.provider), 1) for b in blocks.values()]
    return list(view.transform(sourced)), {c.ref_area: c.provider for c in COALITIONS}


def test_demo_data_in_the_global_view(registry: Registry, view: GlobalView) -> None:
    blocks, providers = demo_global_blocks(view)
    found = records(blocks, SDG_DIMENSIONS)
    assert validate(registry, GLC, found).report.ok
    report = validate(registry, SDG_LNOB, found).report
    assert set(report.counts) == {"error:constraint"}
    outside = set()
    for problem in report.problems:
        values = dict(zip(SDG_DIMENSIONS, (problem.series_key or "").split("."), strict=True))
        outside.add((providers[values["REF_AREA"]], values["SERIES"]))
    assert outside == {
        ("BGD", "SG_REG_BRTH"),  # AGE must be an under-5 age group
        ("BGD", "SH_ACS_UNHC"),  # UNIT_MEASURE must be IX (index), no breakdowns
        ("BGD", "SP_ACS_BSRVH2O"),  # no SEX breakdown
        ("BGD", "SP_ACS_BSRVSAN"),
        ("IND", "SG_REG_BRTH"),
        ("IND", "SP_ACS_BSRVH2O"),  # no SEX or AGE breakdown
        ("IND", "SP_ACS_BSRVSAN"),
        ("KEN", "EN_LND_SLUM"),  # URBANISATION must be U
        ("KEN", "SP_ACS_BSRVH2O"),  # no SEX, AGE or DISABILITY_STATUS breakdown
        ("MWI", "SP_ACS_BSRVH2O"),
        ("NPL", "SH_ACS_UNHC"),
        ("NPL", "SP_ACS_BSRVSAN"),
        ("VNM", "SP_ACS_BSRVSAN"),
    }


# --- keys -------------------------------------------------------------------------------------------


def test_partnership_key_maps_custom_breakdown_codes_back_to_groups(view: GlobalView) -> None:
    key = {"SERIES": ("SE_TOT_CPLR",), "REF_AREA": ("524",), "CUST_BREAKDOWN": ("C26", "_T", "C26")}
    assert view.partnership_key(key) == {
        "SERIES": ("SE_TOT_CPLR",),
        "REF_AREA": ("524",),
        "POP_GROUP": ("NP_DALIT", "_T"),
        "CUST_BREAKDOWN": ("_T",),
        "SUBNATIONAL": ("_T",),
    }


def test_partnership_key_without_custom_breakdown_keeps_groups_open(view: GlobalView) -> None:
    assert view.partnership_key({}) == {"CUST_BREAKDOWN": ("_T",), "SUBNATIONAL": ("_T",)}
    assert view.partnership_key({"CUST_BREAKDOWN": ("_T",)})["POP_GROUP"] == ("_T",)


def test_unknown_custom_breakdown_codes_match_nothing(view: GlobalView) -> None:
    assert view.partnership_key({"CUST_BREAKDOWN": ("C4999",)})["POP_GROUP"] == ()
    assert view.partnership_key({"CUST_BREAKDOWN": ("C4999", "C01")})["POP_GROUP"] == ("PWD",)


def test_partnership_key_rejects_non_sdg_dimensions(view: GlobalView) -> None:
    with pytest.raises(QuerySyntaxError, match="POP_GROUP"):
        view.partnership_key({"POP_GROUP": ("NP_DALIT",)})


def test_keys_and_transform_agree(view: GlobalView) -> None:
    """Every global series comes from a partnership series that the translated global key selects."""
    dataset = partnership_dataset()
    for out in view.transform(dataset):
        wanted = view.partnership_key({d: (c,) for d, c in zip(SDG_DIMENSIONS, out.key, strict=True)})
        sources = [
            s.block.key
            for s in dataset
            if all(s.block.key[LNOB_DIMENSIONS.index(d)] in codes for d, codes in wanted.items())
        ]
        assert len(sources) == 1
