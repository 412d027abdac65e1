"""The published mapping from the partnership view (LNOB:DF_LNOB) to the global SDG view (LNOB:DF_SDG_LNOB).

:func:`global_view_artefacts` expresses the mapping as SDMX 3.0 artefacts (three RepresentationMaps and
one StructureMap, agency LNOB) that NSOs, FMR and other tools can read; :class:`GlobalView` applies the
same mapping to data keys and series blocks. The value tables GlobalView uses are read from those
RepresentationMaps (the stored copies when the registry holds them), so what is published is what is run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import msgspec

from exchange.formats.data_message import ObservationRow, SeriesBlock
from exchange.query.params import QuerySyntaxError
from exchange.structures.model import (
    Annotation,
    Artefact,
    Codelist,
    ComponentMap,
    DataStructure,
    Ref,
    RepresentationMap,
    StructureMap,
    ValueMapping,
)
from exchange.structures.registry import Registry

AGENCY = "LNOB"
VERSION = "1.0"
PARTNERSHIP_FLOW = Ref("dataflow", "LNOB", "DF_LNOB", "1.0")
GLOBAL_FLOW = Ref("dataflow", "LNOB", "DF_SDG_LNOB", "1.0")
POP_GROUP_MAP = Ref("representationmap", AGENCY, "RM_POP_GROUP_TO_CUST_BREAKDOWN", VERSION)
NATURE_MAP = Ref("representationmap", AGENCY, "RM_NATURE_EXT_TO_NATURE", VERSION)
OBS_STATUS_MAP = Ref("representationmap", AGENCY, "RM_OBS_STATUS_CITIZEN", VERSION)
STRUCTURE_MAP = Ref("structuremap", AGENCY, "SM_LNOB_TO_SDG", VERSION)

TOTAL = "_T"
CITIZEN_NATURE = "_X"
"""The IAEG-SDGs:CL_NATURE code for citizen-generated data (CG); see the RM_NATURE_EXT_TO_NATURE description."""
FREE = "F"
"""CL_CONF_STATUS code of values free for publication."""
SOURCE_DETAIL_TEMPLATE = "Citizen-generated data: {provider}, LNOB release {release}"
CACHE_LIMIT = 20_000
"""Converted attribute sets kept per cache; a cache is emptied when it reaches this size (free-text
comments can make attribute sets nearly unique)."""
_GENERIC_CODE = re.compile(r"C\d+")
_decode = msgspec.json.Decoder(dict[str, str]).decode


def _en(text: str) -> dict[str, str]:
    return {"en": text}


def _rule(rule_type: str, title: str, text: str) -> Annotation:
    return Annotation(type=rule_type, title=title, text=_en(text))


def _enumeration(dsd: DataStructure, component_id: str) -> Ref:
    component = dsd.component(component_id)
    enum = component.representation.enumeration if component and component.representation else None
    if enum is None:
        raise ValueError(f"{component_id} of {dsd.ref} is not coded")
    return enum


def global_view_artefacts(registry: Registry) -> list[Artefact]:
    """The RepresentationMaps and the StructureMap from DF_LNOB to DF_SDG_LNOB (LNOB, 1.0, final).

    Built from the registry's DSD_LNOB, IAEG-SDGs:SDG and codelists; every reference resolves among the
    bundled artefacts.
    """
    source = registry.structure_of(registry.dataflow(PARTNERSHIP_FLOW))
    target = registry.structure_of(registry.dataflow(GLOBAL_FLOW))
    pop_groups = registry.codelist(_enumeration(source, "POP_GROUP"))
    cust = registry.codelist(_enumeration(target, "CUST_BREAKDOWN"))
    nature_ext = registry.codelist(_enumeration(source, "NATURE"))
    nature = registry.codelist(_enumeration(target, "NATURE"))
    obs_status = registry.codelist(_enumeration(target, "OBS_STATUS"))
    return [
        _pop_group_map(pop_groups, cust),
        _nature_map(nature_ext, nature),
        _obs_status_map(obs_status),
        _structure_map(source, target),
    ]


def _pop_group_map(pop_groups: Codelist, cust: Codelist) -> RepresentationMap:
    groups = [item.id for item in pop_groups.items if item.id != TOTAL]
    generic = [item.id for item in cust.items if _GENERIC_CODE.fullmatch(item.id)]
    if len(groups) > len(generic):
        raise ValueError(f"{cust.ref} has {len(generic)} generic codes for {len(groups)} population groups")
    return RepresentationMap(
        agency=AGENCY,
        id=POP_GROUP_MAP.id,
        version=VERSION,
        is_final=True,
        name=_en("Population group to SDG custom breakdown"),
        description=_en(
            f"Maps the population groups of {pop_groups.ref} to codes of {cust.ref}, because the global SDG "
            "structure has no population-group dimension. _T (all population) maps to _T. Every other group "
            "has a fixed generic code, C01, C02, … in the order of the population-group codelist, so a group "
            "has the same code in every series, country and release. A generic code means nothing on its own: "
            "in LNOB:DF_SDG_LNOB the series attribute CUST_BREAKDOWN_LB gives the group's English name (for "
            "example 'Dalits (Nepal)'). Later versions of this map keep these codes and give new groups the "
            "next free codes."
        ),
        sources=[pop_groups.ref],
        targets=[cust.ref],
        mappings=[ValueMapping(source=[TOTAL], target=[TOTAL])]
        + [ValueMapping(source=[g], target=[c]) for g, c in zip(groups, generic, strict=False)],
    )


def _nature_map(nature_ext: Codelist, nature: Codelist) -> RepresentationMap:
    sdg_codes = {item.id for item in nature.items}
    return RepresentationMap(
        agency=AGENCY,
        id=NATURE_MAP.id,
        version=VERSION,
        is_final=True,
        name=_en("Nature of data: LNOB extension to SDG codes"),
        description=_en(
            f"Maps {nature_ext.ref} to {nature.ref}. The SDG codes C, CA, E, G, M, N and _X map to themselves. "
            f"CG (citizen-generated data) maps to {CITIZEN_NATURE} (Not available) because no SDG code "
            "describes it. C (Country data) means figures produced and disseminated by the country's national "
            "statistical system and CA (Country adjusted) such figures adjusted by an international agency; "
            "community data are neither. E (Estimated), G (Global monitoring data) and M (Modeled) describe "
            "figures produced by international agencies, and N (Non-relevant) would say the nature does not "
            f"matter. {CITIZEN_NATURE} says that the nature cannot be given with CL_NATURE and claims no "
            "official status. The citizen origin is stated instead by OBS_STATUS G (Experimental value, see "
            "LNOB:RM_OBS_STATUS_CITIZEN) and by SOURCE_DETAIL, which names the coalition and the release."
        ),
        sources=[nature_ext.ref],
        targets=[nature.ref],
        mappings=[
            ValueMapping(source=[item.id], target=[item.id if item.id in sdg_codes else CITIZEN_NATURE])
            for item in nature_ext.items
        ],
    )


def _obs_status_map(obs_status: Codelist) -> RepresentationMap:
    return RepresentationMap(
        agency=AGENCY,
        id=OBS_STATUS_MAP.id,
        version=VERSION,
        is_final=True,
        name=_en("Observation status of citizen-generated values"),
        description=_en(
            f"Maps {obs_status.ref} to itself for the global view of citizen-generated data. A (Normal value) "
            "becomes G (Experimental value): the SDG structure has no attribute that says a value is not "
            "official statistics, and G is the standard flag for values from new or non-standard sources and "
            "methods. Every other status is kept unchanged, so that missing-value codes (L, M, O, Q…) and "
            "quality flags (U Low reliability, P Provisional, E Estimated…) reach the global view. SOURCE_DETAIL "
            "names the coalition and the release of each value."
        ),
        sources=[obs_status.ref],
        targets=[obs_status.ref],
        mappings=[ValueMapping(source=[i.id], target=["G" if i.id == "A" else i.id]) for i in obs_status.items],
    )


def _structure_map(source: DataStructure, target: DataStructure) -> StructureMap:
    recoded = {"CUST_BREAKDOWN": POP_GROUP_MAP, "NATURE": NATURE_MAP, "OBS_STATUS": OBS_STATUS_MAP}
    computed = {"SOURCE_DETAIL", "CUST_BREAKDOWN_LB"}
    maps = [
        ComponentMap(source=[c.id], target=[c.id])
        for c in (*target.dimensions, target.time_dimension, *target.measures, *target.attributes)
        if c is not None and c.id not in recoded and c.id not in computed and source.component(c.id) is not None
    ]
    maps += [
        ComponentMap(source=["POP_GROUP"], target=["CUST_BREAKDOWN"], representation_map=POP_GROUP_MAP),
        ComponentMap(source=["NATURE"], target=["NATURE"], representation_map=NATURE_MAP),
        ComponentMap(source=["OBS_STATUS"], target=["OBS_STATUS"], representation_map=OBS_STATUS_MAP),
    ]
    template = SOURCE_DETAIL_TEMPLATE.format(provider="<provider name>", release="<n>")
    return StructureMap(
        agency=AGENCY,
        id=STRUCTURE_MAP.id,
        version=VERSION,
        is_final=True,
        name=_en("LNOB partnership data to the global SDG structure"),
        description=_en(
            f"How {PARTNERSHIP_FLOW} (structure {source.ref}) becomes {GLOBAL_FLOW} (structure {target.ref}) "
            "for global harvesting. The SDG dimensions, TIME_PERIOD, OBS_VALUE and the SDG attributes are "
            "copied unchanged, except: POP_GROUP becomes CUST_BREAKDOWN through "
            "LNOB:RM_POP_GROUP_TO_CUST_BREAKDOWN, and NATURE and OBS_STATUS are recoded through "
            "LNOB:RM_NATURE_EXT_TO_NATURE and LNOB:RM_OBS_STATUS_CITIZEN. CONF_STATUS, SAMPLE_SIZE, "
            "SAMPLE_SIZE_BAND and PROV_REF have no place in the SDG structure and are not carried; they stay "
            "in the partnership dataflow. The annotations give the rules that are not value mappings: which "
            "rows are left out, and how SOURCE_DETAIL and CUST_BREAKDOWN_LB are filled."
        ),
        annotations=[
            _rule(
                "SUBNATIONAL_RULE",
                "SUBNATIONAL=_T",
                "Only national rows (SUBNATIONAL = _T) are included. Sub-national rows (counties, provinces, "
                "wards…) are left out: the SDG structure has no sub-national dimension, and community figures "
                "are mostly percentages, which cannot be aggregated to the national level without population "
                "weights that the releases do not carry.",
            ),
            _rule(
                "SOURCE_DETAIL_RULE",
                template,
                f"SOURCE_DETAIL of every observation is '{template}': the English name of the data provider in "
                "LNOB:DATA_PROVIDERS (for example 'Kenya LNOB coalition') and the number of the published "
                "release the value comes from. When the coalition gave its own SOURCE_DETAIL, it follows "
                "after '; '. The series attribute CUST_BREAKDOWN_LB is the English name of the population "
                "group in LNOB:CL_POP_GROUP (for example 'Dalits (Nepal)') when POP_GROUP is not _T, and is "
                "absent otherwise.",
            ),
            _rule(
                "CUST_BREAKDOWN_RULE",
                "CUST_BREAKDOWN=_T",
                "Only partnership series with CUST_BREAKDOWN = _T are included (community data carry their "
                "breakdowns in POP_GROUP). In the global view CUST_BREAKDOWN carries the population group "
                "alone, so that a generic code always means the same group.",
            ),
            _rule(
                "CONFIDENTIALITY_RULE",
                "CONF_STATUS=F",
                "Observations whose CONF_STATUS is anything other than F (Free) are left out, because the SDG "
                "structure cannot carry the confidentiality status. Observations without CONF_STATUS are "
                "included.",
            ),
        ],
        source=PARTNERSHIP_FLOW,
        target=GLOBAL_FLOW,
        component_maps=maps,
    )


def _canonical(attributes: Mapping[str, str]) -> str:
    """Attributes as the canonical JSON the writers expect."""
    return json.dumps(attributes, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class SourcedBlock(NamedTuple):
    """A partnership series block with the data provider and the release it was read from.

    The query engine reads each dataset at one release snapshot, so it wraps every block of a
    snapshot as ``SourcedBlock(block, snapshot.provider, snapshot.release)``.
    """

    block: SeriesBlock
    provider: tuple[str, str]
    """(agency, id) of the data provider, as in :attr:`DataSetInfo.provider`."""
    release: int


@dataclass(slots=True)
class _Source:
    """SOURCE_DETAIL of one provider's release and its converted observation attributes."""

    detail: str
    by_json: dict[str | None, str | Literal[False]] = field(default_factory=dict)
    """Global attributes JSON by partnership attributes JSON (False: the observation is left out)."""
    by_kept: dict[tuple[tuple[str, str], ...], str] = field(default_factory=dict)
    """Global attributes JSON by the partnership (attribute, value) pairs the global view keeps."""


class GlobalView:
    """Applies the published mapping: DF_SDG_LNOB keys → DF_LNOB keys, DF_LNOB series → DF_SDG_LNOB series.

    A query on DF_SDG_LNOB runs on DF_LNOB with ``partnership_key(query.key)`` and TIME_PERIOD at
    observation level; each snapshot's blocks are wrapped in :class:`SourcedBlock` and passed through
    :meth:`transform`; the writers get ``DataSetInfo(target_flow, target_structure, series_dimensions)``.
    A ``dimensionAtObservation`` pivot, if any, is applied to the transformed blocks. One instance can
    serve concurrent queries: the per-query caches live inside :meth:`transform`.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.source_flow = registry.dataflow(PARTNERSHIP_FLOW)
        self.target_flow = registry.dataflow(GLOBAL_FLOW)
        self.source_structure = registry.structure_of(self.source_flow)
        self.target_structure = registry.structure_of(self.target_flow)
        published = {a.ref: registry.get(a.ref) or a for a in global_view_artefacts(registry)}
        self.pop_group_to_cust = self._table(published[POP_GROUP_MAP])
        self.cust_to_pop_group = {c: g for g, c in self.pop_group_to_cust.items()}
        self.nature = self._table(published[NATURE_MAP])
        self.obs_status = self._table(published[OBS_STATUS_MAP])
        pop_groups = registry.codelist(_enumeration(self.source_structure, "POP_GROUP"))
        self.group_names = {i.id: i.name.get("en") or i.id for i in pop_groups.items}

        source_dims = [d.id for d in self.source_structure.dimensions]
        self.series_dimensions = tuple(d.id for d in self.target_structure.dimensions)
        """Dimension ids of the global blocks' keys (TIME_PERIOD is at observation level)."""
        self._key_positions = [
            source_dims.index("POP_GROUP" if d == "CUST_BREAKDOWN" else d) for d in self.series_dimensions
        ]
        self._cust_out = self.series_dimensions.index("CUST_BREAKDOWN")
        self._pop_group_in = source_dims.index("POP_GROUP")
        self._cust_in = source_dims.index("CUST_BREAKDOWN")
        self._subnational_in = source_dims.index("SUBNATIONAL")
        attributes = self.target_structure.attributes
        self._series_attribute_ids = frozenset(a.id for a in attributes if a.attachment in ("series", "group"))
        self._obs_attribute_ids = frozenset(a.id for a in attributes if a.attachment == "observation")
        self._dropped_obs_attributes = tuple(
            a.id
            for a in self.source_structure.attributes
            if a.attachment == "observation" and a.id not in self._obs_attribute_ids
        )

    @staticmethod
    def _table(representation_map: Artefact) -> dict[str, str]:
        assert isinstance(representation_map, RepresentationMap)
        return {m.source[0]: m.target[0] for m in representation_map.mappings}

    def partnership_key(self, key: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """Translate a data-query key on DF_SDG_LNOB (SDG dimension → codes) into one on DF_LNOB.

        CUST_BREAKDOWN codes become POP_GROUP codes through the reverse of RM_POP_GROUP_TO_CUST_BREAKDOWN
        (``_T`` → ``_T``); unknown codes match nothing, so a key with only unknown codes gives
        ``POP_GROUP=()``, which matches no series. SUBNATIONAL and the partnership's CUST_BREAKDOWN are
        fixed to ``_T``, as in the global view. Other dimensions pass unchanged; absent ones stay wildcards.
        """
        unknown = [d for d in key if d not in self.series_dimensions]
        if unknown:
            raise QuerySyntaxError(f"Unknown dimension(s) {', '.join(unknown)} for {self.target_flow.ref}")
        result = {d: tuple(codes) for d, codes in key.items() if d != "CUST_BREAKDOWN"}
        if "CUST_BREAKDOWN" in key:
            groups = (self.cust_to_pop_group.get(c) for c in key["CUST_BREAKDOWN"])
            result["POP_GROUP"] = tuple(dict.fromkeys(g for g in groups if g is not None))
        result["CUST_BREAKDOWN"] = (TOTAL,)
        result["SUBNATIONAL"] = (TOTAL,)
        return result

    def transform(self, blocks: Iterable[SourcedBlock]) -> Iterator[SeriesBlock]:
        """DF_LNOB series (key in DSD_LNOB order, TIME_PERIOD at observation) → DF_SDG_LNOB series.

        Left out: sub-national series, series with CUST_BREAKDOWN ≠ _T or an unmapped POP_GROUP,
        observations with CONF_STATUS ≠ F, and series left without observations. Series attributes keep
        the SDG ones and get CUST_BREAKDOWN_LB (the group's name) when POP_GROUP ≠ _T; observation
        attributes keep the SDG ones, with NATURE and OBS_STATUS recoded and SOURCE_DETAIL set from the
        provider's name (LNOB:DATA_PROVIDERS) and the release number. Attribute sets are converted once per
        distinct JSON string (per provider and release), so millions of observations stream quickly.
        The input blocks are not modified.
        """
        sources: dict[tuple[tuple[str, str], int], _Source] = {}
        series_attributes: dict[tuple[str | None, str], str | None] = {}
        for block, provider, release in blocks:
            key = block.key
            if key[self._subnational_in] != TOTAL or key[self._cust_in] != TOTAL:
                continue
            group = key[self._pop_group_in]
            code = self.pop_group_to_cust.get(group)
            if code is None:
                continue
            source = sources.get((provider, release))
            if source is None:
                source = sources[(provider, release)] = self._source(provider, release)
            observations = self._observations(block.observations, source)
            if not observations:
                continue
            new_key = [key[i] for i in self._key_positions]
            new_key[self._cust_out] = code
            attributes = series_attributes.get((block.attributes, group), False)
            if attributes is False:
                attributes = series_attributes[(block.attributes, group)] = self._series_attributes(
                    block.attributes, group
                )
            yield SeriesBlock(tuple(new_key), attributes, observations)

    def _observations(self, rows: list[ObservationRow], source: _Source) -> list[ObservationRow]:
        cached = source.by_json.get
        result: list[ObservationRow] = []
        append = result.append
        for dims, value, attrs in rows:
            mapped = cached(attrs)
            if mapped is None:
                mapped = self._observation_attributes(attrs, source)
            if mapped is not False:
                append((dims, value, mapped))
        return result

    def _source(self, provider: tuple[str, str], release: int) -> _Source:
        item = self.registry.provider(*provider)
        name = (item.name.get("en") if item else None) or provider[1]
        return _Source(SOURCE_DETAIL_TEMPLATE.format(provider=name, release=release))

    def _observation_attributes(self, attrs: str | None, source: _Source) -> str | Literal[False]:
        """The global attributes JSON of one partnership attributes JSON, or False to leave it out.

        Attributes the global view drops (SAMPLE_SIZE, PROV_REF…) make most source strings unique, so
        the result is also memoised by the pairs left once they are removed.
        """
        by_json, by_kept = source.by_json, source.by_kept
        if len(by_json) >= CACHE_LIMIT:
            by_json.clear()
        values: dict[str, str] = _decode(attrs) if attrs else {}
        if values.get("CONF_STATUS", FREE) != FREE:
            by_json[attrs] = False
            return False
        for attr_id in self._dropped_obs_attributes:
            values.pop(attr_id, None)
        kept = tuple(values.items())
        converted = by_kept.get(kept)
        if converted is None:
            result = {k: v for k, v in kept if k in self._obs_attribute_ids and v != ""}
            if "NATURE" in result:
                result["NATURE"] = self.nature.get(result["NATURE"], result["NATURE"])
            if "OBS_STATUS" in result:
                result["OBS_STATUS"] = self.obs_status.get(result["OBS_STATUS"], result["OBS_STATUS"])
            own = result.get("SOURCE_DETAIL")
            result["SOURCE_DETAIL"] = f"{source.detail}; {own}" if own else source.detail
            if len(by_kept) >= CACHE_LIMIT:
                by_kept.clear()
            converted = by_kept[kept] = _canonical(result)
        by_json[attrs] = converted
        return converted

    def _series_attributes(self, attrs: str | None, group: str) -> str | None:
        values = _decode(attrs) if attrs else {}
        result = {k: v for k, v in values.items() if k in self._series_attribute_ids and v != ""}
        result.pop("CUST_BREAKDOWN_LB", None)
        if group != TOTAL:
            result["CUST_BREAKDOWN_LB"] = self.group_names[group]
        return _canonical(result) if result else None
