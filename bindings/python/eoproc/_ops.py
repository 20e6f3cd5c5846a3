"""Every registered operation as a module-level function, made at import time
from the registry: ``eoproc.<op>(...)`` takes the operation's positional
parameters (``eoproc schema OP``'s x-positional) in order and every parameter
by keyword, and returns the operation's result dict (the fields
``eoproc.result_schema(op)`` describes).

Paths, ``os.PathLike`` values and open :class:`Dataset` objects are accepted
alike, a list of paths is a mosaic wherever the schema says so, and ``None``
leaves a parameter out (its default applies). Functions written by hand for
numpy-level work (``read``, ``cog`` from an array, ``Model.run``, ...) keep
their names; the generated ones fill in the rest (``preview``, ``tiles``,
``tiles_read``, ``segment``, ``band_math``, ...)."""
import inspect
import textwrap

_JSON_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool",
               "array": "list", "object": "dict", "null": "None"}


def _type_text(p):
    t = p.get("type", "")
    ts = t if isinstance(t, list) else [t]
    names = [_JSON_TYPES.get(x, x) for x in ts]
    if p.get("items") and "array" in ts:
        it = p["items"].get("type", "")
        its = it if isinstance(it, list) else [it]
        names[ts.index("array")] = "list of %s" % " or ".join(_JSON_TYPES.get(x, x) for x in its)
    return " or ".join(names)


def _doc(entry, schema, result):
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    lines = [entry["summary"] + ".", "",
             "Generated from the registry: the same as ``eoproc.run(%r, ...)`` and the command"
             % entry["name"], "``eoproc %s``." % entry["cli"], "", "Args:"]
    for key, p in props.items():
        extra = []
        if "enum" in p:
            extra.append("one of " + ", ".join(str(v) for v in p["enum"]))
        if "default" in p:
            extra.append("default %s" % (p["default"],))
        elif key in required:
            extra.append("required")
        text = "%s (%s): %s%s" % (key, _type_text(p), p.get("description", ""),
                                  " (%s)" % "; ".join(extra) if extra else "")
        lines.extend(textwrap.wrap(text, 76, initial_indent="    ",
                                   subsequent_indent="        "))
    rprops = result.get("properties", {})
    if rprops:
        lines += ["", "Returns:", "    dict with the fields:"]
        for key, p in rprops.items():
            lines.extend(textwrap.wrap("%s (%s): %s" % (key, _type_text(p), p.get("description", "")),
                                       76, initial_indent="        ",
                                       subsequent_indent="            "))
    lines += ["", "Raises:", "    Error: ``param.Invalid`` naming a bad parameter, or the operation's",
              "        own errors (with their ids)."]
    return "\n".join(lines)


def _signature(schema):
    props = schema.get("properties", {})
    pos = list(schema.get("x-positional", []))
    required = set(schema.get("required", []))
    P = inspect.Parameter
    params = []
    # positional parameters: required ones first keep their order; a
    # non-required positional (polygonize's out) gets None
    seen_optional = False
    for key in pos:
        if key in required and not seen_optional:
            params.append(P(key, P.POSITIONAL_OR_KEYWORD))
        else:
            seen_optional = True
            params.append(P(key, P.POSITIONAL_OR_KEYWORD, default=None))
    for key, p in props.items():
        if key in pos:
            continue
        if key in required:
            params.append(P(key, P.KEYWORD_ONLY))
        else:
            params.append(P(key, P.KEYWORD_ONLY, default=p.get("default", None)))
    return inspect.Signature(params)


def make(entry, schema, result, run):
    """The function of one registry entry (see the module's docstring)."""
    name = entry["name"]
    sig = _signature(schema)
    required = set(schema.get("required", []))

    def op(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError("eoproc.%s: %s" % (name, e)) from None
        params = {k: v for k, v in bound.arguments.items() if v is not None or k in required}
        return run(name, **params)

    op.__name__ = op.__qualname__ = name
    op.__module__ = "eoproc"
    op.__doc__ = _doc(entry, schema, result)
    op.__signature__ = sig
    return op


def install(namespace, ops, schema, result_schema, run):
    """Define every operation missing from namespace; returns their names."""
    added = []
    for entry in ops():
        name = entry["name"]
        if name in namespace:
            continue
        namespace[name] = make(entry, schema(name), result_schema(name), run)
        added.append(name)
    return added
