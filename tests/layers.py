#!/usr/bin/python3
"""layers.py - the include rules of src/ (DESIGN.md, "Layers"), checked on every
#include "..." of every file under src/:

1. a file includes no header of a higher layer. The layers, lowest first:
   core < raster < cog < {tiles, analytics, vector} < infer < jobs < ops.
   tiles, analytics and vector are peers: none includes another.
2. no cycle: neither among files (a header including, through others, itself)
   nor among folders (folder A including B's headers while B includes A's).
3. a file in src/ops includes only public headers (include/) and src/ops' own
   (and the generated op_list.h), besides the exceptions below.

4. given the library's object files, the same for calls (nm --defined-only /
   --undefined-only): a file calls no function (nor reads data) of a higher
   layer or a peer, and no files call each other in a circle, even inside
   one folder, where one shared *_int.h lets any file include any other.
   A cycle is broken by moving the shared function to the file lower in
   the chain, or by splitting a file.

Each failure names the file, its line and the include (for calls: the files
and the symbols). Usage:
    layers.py [SOURCE_DIR [OBJECT ...]]   (default: the tree this script is
    in; objects may also come as one ';'-separated list, as CMake's
    $<TARGET_OBJECTS:...> gives them)
"""
import os
import re
import subprocess
import sys

RANK = {"core": 0, "raster": 1, "cog": 2, "tiles": 3, "analytics": 3, "vector": 3,
        "infer": 4, "jobs": 5, "ops": 6}

# Includes of src/ops beyond public headers and its own, each with its reason.
OPS_EXCEPTIONS = {
    # every layer's base: status and messages (eoi_fail), checked allocation,
    # JSON helpers; the parameter tables every op declares are core's type
    ("*", "core/eoi.h"): "the library's base (status, messages, allocation)",
    ("*", "core/eoi_param.h"): "the parameter-table type of every op (core's schema.c, param.c)",
}
GENERATED = {"op_list.h"}  # made by CMake in the build tree (src/ops/op_list.h.in)

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    src = os.path.join(root, "src")
    inc = os.path.join(root, "include")
    errors = []
    edges = {}  # file (relative to src) -> set of files (relative to src)
    folder_edges = {}  # folder -> {folder: (file, line, text)}

    files = []
    for d, _, names in os.walk(src):
        for n in names:
            if n.endswith((".c", ".h")):
                files.append(os.path.relpath(os.path.join(d, n), src))
    files.sort()

    for f in files:
        folder = f.split(os.sep)[0]
        if folder not in RANK:
            errors.append("%s: folder %s is in no layer (add it to layers.py's RANK)" % (f, folder))
            continue
        with open(os.path.join(src, f), encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                name = m.group(1)
                where = "%s:%d: #include \"%s\"" % (f, lineno, name)
                # the compiler's search: the file's folder, then -I src/core, include/
                cands = [os.path.join(src, os.path.dirname(f), name),
                         os.path.join(src, "core", name), os.path.join(inc, name)]
                target = next((os.path.normpath(c) for c in cands if os.path.isfile(c)), None)
                if target is None:
                    if folder == "ops" and name in GENERATED:
                        continue
                    errors.append("%s: found nowhere under src/ or include/" % where)
                    continue
                if not target.startswith(src + os.sep):
                    continue  # a public header: any layer may include it
                t = os.path.relpath(target, src)
                tfolder = t.split(os.sep)[0]
                edges.setdefault(f, set()).add(t)
                if tfolder != folder:
                    folder_edges.setdefault(folder, {}).setdefault(tfolder, where)
                if folder == "ops" and tfolder != "ops":
                    if ("*", t) in OPS_EXCEPTIONS or (f, t) in OPS_EXCEPTIONS:
                        continue
                    errors.append("%s: src/ops includes only public headers and its own "
                                  "(this is %s)" % (where, t))
                    continue
                if tfolder not in RANK:
                    continue
                if RANK[tfolder] > RANK[folder]:
                    errors.append("%s: %s (layer %d) includes %s of a higher layer (%d)"
                                  % (where, folder, RANK[folder], t, RANK[tfolder]))
                elif RANK[tfolder] == RANK[folder] and tfolder != folder:
                    errors.append("%s: %s and %s are peer layers: neither includes the other"
                                  % (where, folder, tfolder))

    for kind, graph in (("files", {k: {t: None for t in v} for k, v in edges.items()}),
                        ("folders", folder_edges)):
        for cycle in cycles(graph):
            detail = ""
            if kind == "folders":
                detail = " (" + "; ".join(folder_edges[a][b] for a, b in
                                          zip(cycle, cycle[1:] + cycle[:1])) + ")"
            errors.append("include cycle among %s: %s%s"
                          % (kind, " -> ".join(cycle + cycle[:1]), detail))

    objects = [o for a in sys.argv[2:] for o in a.split(";") if o]
    if objects:
        errors.extend(call_errors(objects))

    for e in errors:
        print("layers: " + e)
    if errors:
        print("layers: %d violation(s); the rules are in %s" % (len(errors), __file__))
        return 1
    print("layers: %d files, includes%s follow core < raster < cog < {tiles, analytics, vector}"
          " < infer < jobs < ops, no cycles" % (len(files), " and calls (%d objects)"
                                                % len(objects) if objects else ""))
    return 0


def src_of(obj):
    """The source file (relative to src/) an object was compiled from:
    .../src/core/ctx.c.o -> core/ctx.c."""
    parts = os.path.normpath(obj).split(os.sep)
    i = len(parts) - 1 - parts[::-1].index("src")
    name = "/".join(parts[i + 1:])
    return name[:-2] if name.endswith(".o") else name


def nm(obj, flag):
    out = subprocess.run(["nm", "-P", flag, obj], check=True, capture_output=True,
                         text=True).stdout
    return [line.split() for line in out.splitlines() if line.strip()]


def call_errors(objects):
    """Rule 4: the graph of files by the symbols one uses and another
    defines; an edge up or across the layers, or a cycle, is an error."""
    errors = []
    defined, used = {}, {}
    for obj in objects:
        f = src_of(obj)
        for fields in nm(obj, "--defined-only"):
            if len(fields) >= 2 and fields[1].isupper():  # global (static ones are lowercase)
                defined[fields[0]] = f
        used[f] = [fields[0] for fields in nm(obj, "--undefined-only")]
    graph = {}  # file -> {file: [symbols]}
    for f, syms in used.items():
        for sym in syms:
            t = defined.get(sym)
            if t and t != f:
                graph.setdefault(f, {}).setdefault(t, []).append(sym)
    for f in sorted(graph):
        folder = f.split("/")[0]
        for t in sorted(graph[f]):
            tfolder = t.split("/")[0]
            if folder not in RANK or tfolder not in RANK or folder == tfolder:
                continue
            if RANK[tfolder] >= RANK[folder]:
                errors.append("%s calls %s of %s %s (%s)" % (
                    f, ", ".join(sorted(set(graph[f][t]))[:4]), "a peer layer," if
                    RANK[tfolder] == RANK[folder] else "a higher layer,", tfolder, t))
    for cycle, comp in cycles(graph, members=True):
        steps = ["%s -> %s (%s)" % (a, b, ", ".join(sorted(set(graph[a][b]))[:3]))
                 for a, b in zip(cycle, cycle[1:] + cycle[:1])]
        more = [f for f in comp if f not in cycle]
        errors.append("call cycle among files: " + "; ".join(steps) +
                      (" (tied in the same knot: %s)" % ", ".join(more) if more else ""))
    return errors


def cycles(graph, members=False):
    """One cycle per strongly connected component of more than one node (or a
    node including itself), as a list of nodes (Tarjan's algorithm); with
    members, (cycle, every node of the component) pairs."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, {}):
                path = path_in(graph, sorted(comp))
                out.append((path, sorted(comp)) if members else path)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def path_in(graph, comp):
    """A cycle through comp[0] inside the component (breadth-first)."""
    members, start = set(comp), comp[0]
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph.get(v, {})):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return path[::-1]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


if __name__ == "__main__":
    sys.exit(main())
