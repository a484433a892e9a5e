"""DCSA Track & Trace 2.2 (`../shared/reference/dcsa/TNT_v2.2.0.yaml`) as one self-contained
OpenAPI document, for fuzzing the routes Harborgraph serves under `/dcsa/tnt`.

The spec points its `$ref`s at SwaggerHub domains; nothing is fetched from the network. They
are read from the reference copies beside it, or replaced where the copies lack them:

- `EVENT_DOMAIN/1.0.4` from `event_domain_v1.1.0.yaml` (the copies hold 1.0.3 and 1.1.0,
  which bracket it), but for three query parameters neither copy has (`documentTypeCode`,
  `exportVoyageNumber`, `UNLocationCode`), made from the schemas they filter on;
  `DCSA_DOMAIN/1.0.x` from `dcsa_domain_v1.0.3.yaml`;
- `ERROR_DOMAIN/1.0.0#/components/schemas/error` (the `error` of `dcsa_domain_v1.0.3.yaml`:
  `errors[]` of `reason` and `message`) by JIT 2.0's `ErrorResponse` (`JIT_v2.0.0.yaml`):
  Harborgraph answers errors in that newer DCSA shape (`errors[]` of `property`,
  `errorCodeText`, `errorCodeMessage`), as the README documents, a deliberate deviation;
- `DOCUMENTATION_DOMAIN` (`references`, `seals`, `vessel`, `partyNoID`) and
  `LOCATION_DOMAIN` (`location`, `geoLocation`), of which there is no copy, by stand-ins put
  together from `dcsa_domain_v1.0.3.yaml`'s fields (parties and locations left open).

`POST /v2/events` is added: Harborgraph's own publishing endpoint (T&T 2.2 defines no
publisher side), its body the spec's events (each with the `eventID` that makes publishing
idempotent), its answers as the README describes them. Which operations the server routes is
the fuzz tests' filter (tests/fuzz/test_dcsa.py).
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "dcsa"
SPEC = "TNT_v2.2.0.yaml"
BASE_PATH = "/dcsa/tnt"
DOMAIN_FILES = {
    "EVENT_DOMAIN": "event_domain_v1.1.0.yaml",
    "DCSA_DOMAIN": "dcsa_domain_v1.0.3.yaml",
    "JIT": "JIT_v2.0.0.yaml",
}
# (domain, kind, name) read as another component.
ALIASES = {("ERROR_DOMAIN", "schemas", "error"): ("JIT", "schemas", "ErrorResponse")}
REMOTE = re.compile(
    r"https://api\.swaggerhub\.com/domains/dcsaorg/(?P<domain>\w+)/[\d.]+"
    r"#/components/(?P<kind>\w+)/(?P<name>[\w-]+)$"
)
LOCAL = re.compile(r"#/components/(?P<kind>\w+)/(?P<name>[\w-]+)$")

Key = tuple[str, str, str]


def _dcsa(name: str) -> dict[str, Any]:
    return {
        "$ref": f"https://api.swaggerhub.com/domains/dcsaorg/DCSA_DOMAIN/1.0.3#/components/schemas/{name}"
    }


def _listed(prop: str, fields: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {f: _dcsa(f) for f in fields},
        "required": list(required),
    }
    return {"type": "object", "properties": {prop: {"type": "array", "items": item}}}


VESSEL_FIELDS = (
    "vesselIMONumber",
    "vesselName",
    "vesselFlag",
    "vesselCallSignNumber",
    "vesselOperatorCarrierCode",
    "vesselOperatorCarrierCodeListProvider",
)
STAND_INS: dict[Key, dict[str, Any]] = {
    ("DOCUMENTATION_DOMAIN", "schemas", "references"): _listed(
        "references", ("referenceType", "referenceValue"), ("referenceType", "referenceValue")
    ),
    ("DOCUMENTATION_DOMAIN", "schemas", "seals"): _listed(
        "seals", ("sealNumber", "sealSource", "sealType"), ("sealNumber",)
    ),
    ("DOCUMENTATION_DOMAIN", "schemas", "vessel"): {
        "type": "object",
        "properties": {f: _dcsa(f) for f in VESSEL_FIELDS},
        "required": ["vesselIMONumber"],
    },
    ("DOCUMENTATION_DOMAIN", "schemas", "partyNoID"): {"type": "object"},
    ("LOCATION_DOMAIN", "schemas", "location"): {"type": "object"},
    ("LOCATION_DOMAIN", "schemas", "geoLocation"): {"type": "object"},
    # Query parameters 1.0.4 has and neither copy does, from the schemas they filter on.
    ("EVENT_DOMAIN", "parameters", "documentTypeCode"): {
        "in": "query",
        "name": "documentTypeCode",
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/documentTypeCode"}},
    },
    ("EVENT_DOMAIN", "parameters", "exportVoyageNumber"): {
        "in": "query",
        "name": "exportVoyageNumber",
        "schema": _dcsa("exportVoyageNumber"),
    },
    ("EVENT_DOMAIN", "parameters", "UNLocationCode"): {
        "in": "query",
        "name": "UNLocationCode",
        "schema": _dcsa("UNLocationCode"),
    },
}


class _Loader(yaml.SafeLoader):
    """YAML as JSON Schema reads it: a date-like example stays the string it is written as."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@functools.cache
def _document(name: str) -> dict[str, Any]:
    text = (REFERENCE / name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    return loaded


class _Bundler:
    """Copies every component a document reaches into the spec's own `components`."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.components: dict[str, dict[str, Any]] = spec.setdefault("components", {})

    def local_name(self, key: Key) -> str:
        key = ALIASES.get(key, key)
        domain, kind, name = key
        local = f"{domain}_{name}"
        found = self.components.setdefault(kind, {})
        if local not in found:
            found[local] = {}  # reserved first: components may refer to themselves
            found[local] = self.rewritten(copy.deepcopy(self.component(key)), domain)
        return f"#/components/{kind}/{local}"

    def component(self, key: Key) -> Any:
        if key in STAND_INS:
            return STAND_INS[key]
        domain, kind, name = key
        return _document(DOMAIN_FILES[domain])["components"][kind][name]

    def rewritten(self, node: Any, domain: str | None) -> Any:
        """The node with each reference pointing into the spec; `domain` is the file it comes
        from (None: the spec itself, whose own references stay as they are)."""
        if isinstance(node, list):
            return [self.rewritten(item, domain) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            remote, local = REMOTE.match(ref), LOCAL.match(ref)
            if remote is not None:
                node["$ref"] = self.local_name((remote["domain"], remote["kind"], remote["name"]))
            elif local is not None and domain is not None:
                node["$ref"] = self.local_name((domain, local["kind"], local["name"]))
        return {k: v if k == "$ref" else self.rewritten(v, domain) for k, v in node.items()}


def _publish_operation(spec: dict[str, Any]) -> dict[str, Any]:
    """`POST /v2/events` as Harborgraph serves it: the spec's events in, outcomes out."""
    read = spec["paths"]["/v2/events"]["get"]["responses"]
    event = read["200"]["content"]["application/json"]["schema"]["items"]
    published = {"allOf": [copy.deepcopy(event), {"required": ["eventID"]}]}
    body = {"application/json": {"schema": {"type": "array", "items": published}}}
    error = read["default"]
    outcome = {
        "type": "object",
        "required": ["stored", "accepted", "duplicates", "rejected", "results"],
        "properties": {
            "stored": {"type": "boolean"},
            "accepted": {"type": "integer", "minimum": 0},
            "duplicates": {"type": "integer", "minimum": 0},
            "rejected": {"type": "integer", "minimum": 0},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "outcome"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "outcome": {
                            "type": "string",
                            "enum": ["ACCEPTED", "DUPLICATE", "REJECTED", "NOT_STORED"],
                        },
                        "code": {"type": "string", "enum": ["INVALID", "CONFLICT", "NOT_FOUND"]},
                    },
                },
            },
        },
    }
    answer = {"content": {"application/json": {"schema": outcome}}}
    return {
        "summary": "Publish events (Harborgraph; not in T&T 2.2).",
        "requestBody": {"required": True, "content": body},
        "responses": {
            "201": {"description": "stored, some accepted", **answer},
            "200": {"description": "stored, all duplicates", **answer},
            "default": copy.deepcopy(error),
        },
    }


@functools.cache
def _bundled() -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(_document(SPEC))
    spec["paths"]["/v2/events"]["post"] = _publish_operation(spec)
    spec["servers"] = [{"url": BASE_PATH}]
    own = spec.pop("components", {})
    bundler = _Bundler(spec)
    for kind, entries in own.items():
        found = bundler.components.setdefault(kind, {})
        for name, value in entries.items():
            found[name] = bundler.rewritten(value, None)
    spec["paths"] = bundler.rewritten(spec["paths"], None)
    return spec


def tnt_spec() -> dict[str, Any]:
    """The bundled spec (a fresh copy: schemathesis may change what it is given)."""
    return copy.deepcopy(_bundled())


def available() -> bool:
    return (REFERENCE / SPEC).is_file()
