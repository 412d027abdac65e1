"""The SDMX REST structure API (1.5 and 2.x): queries, formats, errors and authenticated submission."""

from __future__ import annotations

import io
import json

import pytest
import sdmx
from lxml import etree
from pysdmx.io import read_sdmx as pysdmx_read

from tests.conformance import validate_sdmx_json, validate_sdmx_ml

ML21 = "application/vnd.sdmx.structure+xml;version=2.1"
ML30 = "application/vnd.sdmx.structure+xml;version=3.0.0"
JSON10 = "application/vnd.sdmx.structure+json;version=1.0"
JSON20 = "application/vnd.sdmx.structure+json;version=2.0.0"
NS21 = {
    "mes": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
    "str": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
    "com": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
}


def error_code(body: bytes) -> str:
    root = etree.fromstring(body)
    return root.find(f"{{{NS21['mes']}}}ErrorMessage").get("code")


def test_sdg_dsd_with_children_is_valid_and_complete(client) -> None:
    response = client.get("/sdmx/v1/datastructure/IAEG-SDGs/SDG/1.14", params={"references": "children"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.sdmx.structure+xml; version=2.1")
    validate_sdmx_ml(response.content, "2.1")
    message = sdmx.read_sdmx(io.BytesIO(response.content))
    dsd = message.structure["SDG"]
    assert [d.id for d in dsd.dimensions.components][:4] == ["FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA"]
    assert len([c for c in message.codelist.values() if not c.is_external_reference]) == 20
    assert len(message.codelist["CL_AREA"]) == 622
    assert "SDG_CONCEPTS" in message.concept_scheme
    assert pysdmx_read(response.text).get_data_structure_definitions()


@pytest.mark.parametrize(
    ("accept", "fmt", "content_type"),
    [
        (None, None, ML21),
        ("application/xml", None, ML21),
        (ML30, None, ML30),
        ("application/vnd.sdmx.structure+xml;version=3.0", None, ML30),
        (JSON10, None, JSON10),
        ("application/json", None, JSON10),
        (JSON20, None, JSON20),
        ("text/html;q=0.9, application/vnd.sdmx.structure+json;version=2.0.0;q=1", None, JSON20),
        (None, "sdmx-json-2.0", JSON20),
        (None, "sdmx-ml-3.0", ML30),
    ],
)
def test_formats_by_accept_and_format_parameter(client, accept: str | None, fmt: str | None, content_type) -> None:
    headers = {"Accept": accept} if accept else {}
    params = {"format": fmt} if fmt else {}
    response = client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_SEX/latest", headers=headers, params=params)
    assert response.status_code == 200
    media, version = content_type.split(";version=")
    assert response.headers["content-type"].startswith(f"{media}; version={version}")
    if "xml" in media:
        validate_sdmx_ml(response.content, "2.1" if version == "2.1" else "3.0")
    else:
        validate_sdmx_json(response.content, "structure", "1.0" if version == "1.0" else "2.0")


def test_v2_defaults_to_sdmx_ml_30_and_reads_back(client) -> None:
    response = client.get("/sdmx/v2/structure/dataflow/LNOB/DF_LNOB/~", params={"references": "descendants"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.sdmx.structure+xml; version=3.0.0")
    validate_sdmx_ml(response.content, "3.0")
    # pysdmx validates against the 3.0.0 XSD, whose Parent pattern rejects numeric code ids (fixed in 3.0.1).
    message = pysdmx_read(response.text, validate=False)
    dataflows = message.get_dataflows()
    assert [f.id for f in dataflows] == ["DF_LNOB"]
    dsd = message.get_data_structure_definitions()[0]
    assert dsd.id == "DSD_LNOB"
    assert "POP_GROUP" in [c.id for c in dsd.components]


def test_unacceptable_media_type_is_406(client) -> None:
    response = client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_SEX", headers={"Accept": "text/html"})
    assert response.status_code == 406
    response = client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_SEX", params={"format": "pdf"})
    assert response.status_code == 406


def test_item_query_returns_partial_scheme_with_ancestors(client) -> None:
    response = client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_AREA/1.14/404")
    assert response.status_code == 200
    validate_sdmx_ml(response.content, "2.1")
    root = etree.fromstring(response.content)
    codelist = root.find(".//str:Codelist", NS21)
    assert codelist.get("isPartial") == "true"
    ids = [c.get("id") for c in codelist.findall("str:Code", NS21)]
    assert "404" in ids and "1" in ids  # Kenya with its parents up to World


def test_multiple_values_and_wildcards(client) -> None:
    v1 = client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_SEX+CL_AGE/all", params={"detail": "allstubs"})
    assert v1.status_code == 200
    ids = {c.get("id") for c in etree.fromstring(v1.content).findall(".//str:Codelist", NS21)}
    assert ids == {"CL_SEX", "CL_AGE"}
    v2 = client.get("/sdmx/v2/structure/codelist,conceptscheme/LNOB/*/1.*", params={"detail": "allstubs"})
    assert v2.status_code == 200
    text = v2.text
    assert "CL_POP_GROUP" in text and "LNOB_CONCEPTS" in text and "CL_SEX" not in text
    validate_sdmx_ml(v2.content, "3.0")


@pytest.mark.parametrize(
    ("references", "expected", "absent"),
    [
        ("none", {"DF_LNOB"}, {"DSD_LNOB"}),
        ("children", {"DF_LNOB", "DSD_LNOB"}, {"CL_POP_GROUP"}),
        ("descendants", {"DF_LNOB", "DSD_LNOB", "CL_POP_GROUP", "CL_AREA", "SDG_CONCEPTS"}, {"CN_DF_LNOB"}),
        ("parents", {"DF_LNOB", "CN_DF_LNOB"}, {"DSD_LNOB"}),
        ("all", {"DF_LNOB", "DSD_LNOB", "CN_DF_LNOB", "CL_POP_GROUP"}, set()),
        ("datastructure", {"DF_LNOB", "DSD_LNOB"}, {"CL_POP_GROUP"}),
    ],
)
def test_references(client, references: str, expected: set[str], absent: set[str]) -> None:
    response = client.get("/sdmx/v1/dataflow/LNOB/DF_LNOB/1.0", params={"references": references})
    assert response.status_code == 200, response.text
    validate_sdmx_ml(response.content, "2.1")
    ids = {e.get("id") for e in etree.fromstring(response.content).iter() if e.get("urn") and e.get("agencyID")}
    assert expected <= ids
    assert not (absent & ids)


def test_detail_levels(client) -> None:
    full = client.get("/sdmx/v1/datastructure/LNOB/DSD_LNOB/1.0", params={"references": "children"})
    stubs = client.get(
        "/sdmx/v1/datastructure/LNOB/DSD_LNOB/1.0", params={"references": "children", "detail": "referencestubs"}
    )
    partial = client.get(
        "/sdmx/v1/dataflow/LNOB/DF_LNOB/1.0", params={"references": "all", "detail": "referencepartial"}
    )
    for response in (full, stubs, partial):
        assert response.status_code == 200
        validate_sdmx_ml(response.content, "2.1")
    assert len(stubs.content) < len(full.content) / 5
    stub_root = etree.fromstring(stubs.content)
    assert stub_root.find(".//str:DataStructure/str:DataStructureComponents", NS21) is not None
    assert all(c.get("isExternalReference") == "true" for c in stub_root.findall(".//str:Codelist", NS21))
    partial_root = etree.fromstring(partial.content)
    reporting = next(c for c in partial_root.findall(".//str:Codelist", NS21) if c.get("id") == "CL_REPORTING_TYPE")
    assert [c.get("id") for c in reporting.findall("str:Code", NS21)] == ["N"]


def test_no_results_is_404_with_sdmx_code_100(client) -> None:
    for path in ("/sdmx/v1/codelist/IAEG-SDGs/NO_SUCH_LIST", "/sdmx/v1/categoryscheme"):
        response = client.get(path)
        assert response.status_code == 404
        assert error_code(response.content) == "100"
        validate_sdmx_ml(response.content, "2.1")
    assert client.get("/sdmx/v2/structure/codelist/NOBODY").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/sdmx/v1/codelist/IAEG-SDGs/CL_SEX?detail=everything",
        "/sdmx/v1/codelist/IAEG-SDGs/CL_SEX?references=cousins",
        "/sdmx/v1/codelist/IAEG-SDGs/CL_SEX?colour=blue",
        "/sdmx/v1/notaresource/IAEG-SDGs",
        "/sdmx/v1/datastructure/IAEG-SDGs/SDG/1.14/FREQ",
    ],
)
def test_syntax_errors_are_400_with_code_140(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert error_code(response.content) == "140"


def test_v2_errors_use_http_statuses(client) -> None:
    assert client.get("/sdmx/v2/structure/codelist/*/*/1.2.3.4+").status_code == 400
    assert client.get("/sdmx/v2/structure/widget").status_code == 400
    response = client.get("/sdmx/v2/structure/codelist/NOBODY", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert json.loads(response.content)["errors"][0]["code"] == 100


def test_conditional_requests(client) -> None:
    first = client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_SEX")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_SEX", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_SEX", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/sdmx/v1/codelist/IAEG-SDGs/CL_SEX", headers={"If-None-Match": '"other"'}).status_code == 200


def test_json_structures_validate(client) -> None:
    for accept, version in ((JSON10, "1.0"), (JSON20, "2.0")):
        response = client.get(
            "/sdmx/v1/dataflow/LNOB/DF_LNOB/1.0", params={"references": "all"}, headers={"Accept": accept}
        )
        assert response.status_code == 200
        validate_sdmx_json(response.content, "structure", version)
    message = pysdmx_read(response.text)
    assert message.get_dataflows()[0].id == "DF_LNOB"
