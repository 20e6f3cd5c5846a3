"""/ops: the library's operation registry over HTTP, with no code per
operation: GET /ops lists them, GET /ops/{name} gives the parameter schema,
POST /ops/{name} runs one with a JSON body. The OpenAPI document gets one
path per operation with its schema as the request body, so /docs documents
every operation the loaded library has.

Over HTTP, parameters naming files are confined: inputs must lie inside the
served folders, outputs inside the output folder (--out-dir)."""

import copy
import functools
import json
import re

from fastapi import APIRouter, Request

import eoproc

from ._errors import ApiError, field_of, from_eoproc

# parameters that name files, whatever the operation
INPUTS = ("src", "path", "model", "prob", "before", "after")
OUTPUTS = ("out", "classes")
GEOJSON = ("aoi",)
MAX_BODY_ITEMS = 10000


@functools.lru_cache(maxsize=None)
def op_list():
    return eoproc.ops()


@functools.lru_cache(maxsize=None)
def op_schema(name):
    return eoproc.schema(name)


def _known(name):
    names = {o["name"] for o in op_list()} | {o.get("cli") for o in op_list()}
    if name not in names:
        raise ApiError(404, "op.Unknown", "unknown operation %r (GET /ops lists them)" %
                       name[:100], known=sorted(o["name"] for o in op_list()))
    for o in op_list():
        if name in (o["name"], o.get("cli")):
            return o["name"]


class OpsRoutes:
    def __init__(self, state):
        self.s = state
        r = APIRouter(prefix="/ops", tags=["operations"])
        r.add_api_route("", self.list, methods=["GET"], summary="The registered operations")
        r.add_api_route("/{name}", self.describe, methods=["GET"],
                        summary="An operation's parameter schema")
        r.add_api_route("/{name}", self.run, methods=["POST"],
                        summary="Run an operation (JSON parameters in, JSON result out)")
        self.router = r

    def list(self):
        return op_list()

    def describe(self, name: str):
        n = _known(name)
        s = op_schema(n)
        summary = next(o["summary"] for o in op_list() if o["name"] == n)
        return {"name": n, "summary": summary, "parameters": s,
                "result": {"type": "object", "description": "the operation's JSON result"}}

    async def run(self, name: str, request: Request):
        n = _known(name)
        schema = op_schema(n)
        raw = await request.body()
        try:
            params = json.loads(raw or b"{}")
        except ValueError as e:
            raise ApiError(422, "param.Invalid", "the body is not JSON: %s" % e, schema=schema)
        if not isinstance(params, dict):
            raise ApiError(422, "param.Invalid", "the body must be a JSON object of parameters",
                           schema=schema)
        params = self._confine(params, schema)
        from starlette.concurrency import run_in_threadpool
        try:
            return await run_in_threadpool(eoproc.run, n, **params)
        except eoproc.Error as e:
            extra = {}
            if e.id == "param.Invalid":
                extra = {"field": field_of(e.message), "schema": schema}
            raise from_eoproc(e, **extra)

    def _confine(self, params, schema):
        roots = self.s.roots
        props = schema.get("properties", {})
        out = dict(params)
        for k, v in params.items():
            if k not in props:
                continue  # the registry names the unknown parameter
            if k in INPUTS:
                if isinstance(v, list):
                    out[k] = [roots.resolve(x, k, True) if isinstance(x, str) else x for x in v]
                elif isinstance(v, str):
                    out[k] = roots.resolve(v, k, True)
            elif k in OUTPUTS and isinstance(v, str):
                out[k] = roots.output(v, k)
            elif k in GEOJSON and isinstance(v, str) and not v.lstrip().startswith("{"):
                out[k] = roots.resolve(v, k, True)
            elif k == "items" and isinstance(v, list):
                out[k] = [self._item(x) for x in v]
        return out

    def _item(self, x):
        roots = self.s.roots
        if isinstance(x, dict) and isinstance(x.get("path"), str):
            return dict(x, path=roots.resolve(x["path"], "items"))
        if isinstance(x, str) and "@" in x:
            p, d = x.rsplit("@", 1)
            return "%s@%s" % (roots.resolve(p, "items"), d)
        return x


def _openapi_schema(s):
    """A registry schema as an OpenAPI 3.0 schema object (drop $schema; a
    list of types becomes anyOf)."""
    s = copy.deepcopy(s)

    def fix(o):
        if isinstance(o, dict):
            o.pop("$schema", None)
            t = o.get("type")
            if isinstance(t, list):
                del o["type"]
                alts = [{"type": x} for x in t]
                for a in alts:
                    if a["type"] == "array" and "items" in o:
                        a["items"] = o["items"]
                o.pop("items", None)
                o["anyOf"] = alts
            for v in list(o.values()):
                fix(v)
        elif isinstance(o, list):
            for v in o:
                fix(v)
    fix(s)
    return s


def add_ops_to_openapi(doc):
    """Add POST /ops/{name} for every registered operation to an OpenAPI
    document, with the schema as the request body."""
    paths = doc.setdefault("paths", {})
    comps = doc.setdefault("components", {}).setdefault("schemas", {})
    err = {"type": "object", "properties": {
        "detail": {"type": "string"}, "id": {"type": "string"},
        "field": {"type": "string"}, "schema": {"type": "object"}}}
    comps["Error"] = err
    for o in op_list():
        n = o["name"]
        cname = "op_" + re.sub(r"\W", "_", n)
        comps[cname] = _openapi_schema(op_schema(n))
        paths["/ops/" + n] = {"post": {
            "tags": ["operations"], "summary": o["summary"], "operationId": "op_" + n,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/" + cname}}}},
            "responses": {
                "200": {"description": "the operation's result",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                "422": {"description": "a parameter is invalid: the body names it and carries "
                        "the schema", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}}}}}}}
    return doc
