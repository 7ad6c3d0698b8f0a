"""The models and the route table against docs/openapi.json, so that neither can drift.

- every schema of ``components.schemas`` has a model of the same name with the same fields,
  the same ones required, the same enum values, nullability where the document allows null,
  and nested models where it has ``$ref`` or inline objects;
- every operation of ``paths`` is in ``firebreak.ENDPOINTS`` with the models it names;
- a full and a minimal instance generated from each schema validate as the model, and what
  the request models send validates against the schema (jsonschema).
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

import firebreak
from firebreak import models

from .conftest import REPO

DOC = json.loads((REPO / "docs" / "openapi.json").read_text())
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
# Inline objects of the document and the model that stands for each.
INLINE = {
    ("Collection", "last_scan"): models.LastScan,
    ("Scan", "containment"): models.Containment,
    ("Scan", "flagged"): models.FlaggedDocument,
    ("GoldenQueries", "queries"): models.GoldenQuery,
    ("Readiness", "write_refusals"): models.WriteRefusal,
    ("Readiness", "unloaded_collections"): models.UnloadedCollection,
}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def model_named(name: str) -> type[BaseModel]:
    model = getattr(models, name, None)
    assert model is not None, f"openapi.json has schema {name}; firebreak.models has no model of that name"
    assert issubclass(model, BaseModel)
    return model


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None, whether None is allowed)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return annotation, False


def literal_values(annotation: Any) -> set[Any] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    return None


def inner_model(annotation: Any) -> type[BaseModel] | None:
    annotation, _ = unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return inner_model(item)
    return None


def check_object(where: str, schema: dict[str, Any], model: type[BaseModel]) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = model.model_fields
    assert set(fields) == set(properties), (
        f"{where}: model {model.__name__} fields {sorted(fields)} != schema properties {sorted(properties)}")
    model_required = {name for name, info in fields.items() if info.is_required()}
    assert model_required == required, (
        f"{where}: model {model.__name__} requires {sorted(model_required)}, the schema {sorted(required)}")
    for name, prop in properties.items():
        annotation, nullable = unwrap(fields[name].annotation)
        types_ = prop.get("type")
        if isinstance(types_, list) and "null" in types_:
            assert nullable, f"{where}.{name}: the schema allows null; the model does not"
        if "enum" in prop:
            values = literal_values(annotation)
            if values is not None:
                assert values == set(prop["enum"]), f"{where}.{name}: enum {prop['enum']} != model {values}"
            else:
                assert annotation is str, f"{where}.{name}: an enum should be a Literal or str"
        if "$ref" in prop or (prop.get("type") == "array" and "$ref" in prop.get("items", {})):
            ref = prop.get("$ref") or prop["items"]["$ref"]
            target = ref.rsplit("/", 1)[1]
            nested = inner_model(fields[name].annotation)
            assert nested is not None and nested.__name__ == target, f"{where}.{name}: should be {target}, is {nested}"
        inline = INLINE.get((where, name))
        if inline is not None:
            nested = inner_model(fields[name].annotation)
            assert nested is inline, f"{where}.{name}: should be {inline.__name__}"
            item = prop if prop.get("type") != "array" else prop["items"]
            check_object(f"{where}.{name}", item, inline)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_has_matching_model(name: str) -> None:
    check_object(name, SCHEMAS[name], model_named(name))


def test_models_cover_only_documented_schemas() -> None:
    """Every body model is a documented schema or one of the documented inline objects."""
    documented = set(SCHEMAS) | {m.__name__ for m in INLINE.values()}
    bodies = {
        name for name in models.__all__
        if isinstance(getattr(models, name), type) and issubclass(getattr(models, name), BaseModel)
        and name not in ("RequestModel", "ResponseModel")
    }
    assert bodies - documented == set()


def sample(schema: dict[str, Any], full: bool, depth: int = 0) -> Any:
    """An instance of ``schema``: every property (full) or only the required ones."""
    schema = resolve(schema)
    if "enum" in schema:
        return schema["enum"][-1]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        properties = schema.get("properties", {})
        # A oneOf of required groups: the first alternative only.
        groups = [g.get("required", []) for g in schema.get("oneOf", [])]
        others = {n for g in groups[1:] for n in g}
        names = ([n for n in properties if n not in others] if full
                 else list(schema.get("required", [])) + (groups[0] if groups else []))
        value = {n: sample(properties[n], full, depth + 1) for n in names}
        if not properties and "additionalProperties" in schema and full:
            value = {"key": sample(schema["additionalProperties"], full, depth + 1)}
        return value
    if kind == "array":
        return [sample(schema.get("items", {}), full, depth + 1)] if full or schema.get("minItems") else []
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 0.5
    if kind == "boolean":
        return True
    if kind == "string":
        pattern = schema.get("pattern", "")
        if "INC-" in pattern:
            return "INC-000001"
        if "0-9a-f]{64}" in pattern:
            return "a" * 64
        if schema.get("description") == "YYYY-MM-DD":
            return "2026-12-31"
        return "last-clean" if "last-clean" in pattern else "abc"
    raise AssertionError(f"unhandled schema {schema}")


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@pytest.mark.parametrize("full", [True, False], ids=["all-fields", "required-only"])
def test_schema_instances_validate_as_models(name: str, full: bool) -> None:
    model = model_named(name)
    instance = sample(SCHEMAS[name], full)
    _validator(name).validate(instance)  # the generator makes valid documents
    parsed = model.model_validate(instance)
    # What the model sends (requests) or keeps (responses) is the same document again.
    dumped = parsed.model_dump(mode="json", exclude_none=True)
    assert dumped == instance


def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", sorted(n for n in SCHEMAS if issubclass(model_named(n), models.RequestModel)))
def test_request_models_send_what_the_schema_allows(name: str) -> None:
    model = model_named(name)
    instance = sample(SCHEMAS[name], True)
    wire = model.model_validate(instance).wire()
    _validator(name).validate(wire)
    # A misspelt field is refused before anything is sent.
    with pytest.raises(ValueError):
        model.model_validate({**instance, "no_such_field": 1})


def test_schedule_request_leaves_out_the_response_only_seq() -> None:
    wire = models.Schedule(every_seconds=60, policy="alert", seq=3).wire()
    assert "seq" not in wire
    _validator("Schedule").validate(wire)


def _ref_name(content: dict[str, Any]) -> str | None:
    schema = content.get("application/json", {}).get("schema")
    return schema["$ref"].rsplit("/", 1)[1] if schema and "$ref" in schema else None


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in DOC["paths"].items() for method, op in ops.items()
            if method in ("get", "post", "put", "delete")]


@pytest.mark.parametrize("method,path,op", operations(), ids=[f"{m} {p}" for m, p, _ in operations()])
def test_every_operation_has_a_client_method_with_its_models(method: str, path: str, op: dict[str, Any]) -> None:
    matches = [(name, e) for name, e in firebreak.ENDPOINTS.items() if e.method == method and e.path == path]
    assert matches, f"{method} {path} has no client method in ENDPOINTS"
    request = _ref_name(op.get("requestBody", {}).get("content", {}))
    success = next(code for code in op["responses"] if code.startswith("2"))
    response_content = op["responses"][success].get("content", {})
    response = _ref_name(response_content)
    for name, endpoint in matches:
        assert (endpoint.request.__name__ if endpoint.request else None) == request, f"{name}: request model"
        if response is not None:
            assert endpoint.response is not None and endpoint.response.__name__ == response, f"{name}: response model"
        elif "application/json" in response_content:
            assert endpoint.response is dict, f"{name}: untyped JSON answer"
        else:
            assert endpoint.response is str, f"{name}: a text answer"
        mutating = any(p.get("name") == "Idempotency-Key" and p.get("in") == "header" for p in op.get("parameters", []))
        assert endpoint.mutating == mutating, f"{name}: Idempotency-Key is {'required' if mutating else 'not sent'}"
        assert hasattr(firebreak.Client, name) and hasattr(firebreak.AsyncClient, name), f"{name}: no such method"


def test_every_client_route_is_documented() -> None:
    documented = {(m, p) for m, p, _ in operations()}
    for name, endpoint in firebreak.ENDPOINTS.items():
        assert (endpoint.method, endpoint.path) in documented, f"{name}: {endpoint.method} {endpoint.path} is not in openapi.json"


def test_the_served_document_is_the_repository_one(client: firebreak.Client) -> None:
    assert client.openapi() == DOC


def test_a_newer_server_may_add_fields() -> None:
    hit = models.SearchHit.model_validate({"id": "a", "score": 1.0, "text": "t", "tenant": "x", "new_field": 7})
    assert hit.model_extra == {"new_field": 7}
