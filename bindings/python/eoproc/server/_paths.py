"""Which files the server may open: only those inside its roots.

A name is resolved against each root in turn (or taken as an absolute path
that must lie inside one); '..' components, NUL characters, symlinks whose
target leaves the roots and GDAL's virtual file systems (/vsi...) are
refused, and so are URLs unless their host is allowed (then they are read
through GDAL's /vsicurl/)."""

import os
import re
import urllib.parse

from ._errors import ApiError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
MAX_NAME = 4096


class Roots:
    def __init__(self, roots, allow_hosts=(), out_dir=None):
        if not roots:
            raise ValueError("give at least one root folder")
        self.roots = []
        for r in roots:
            real = os.path.realpath(r)
            if not os.path.isdir(real):
                raise ValueError("root %s is not a folder" % r)
            self.roots.append(real)
        self.allow_hosts = {h.lower() for h in allow_hosts}
        self.out_dir = os.path.realpath(out_dir) if out_dir else None
        if self.out_dir and self.out_dir not in self.roots:
            self.roots.append(self.out_dir)

    def inside(self, real):
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)

    def _check_name(self, name, field):
        if not isinstance(name, str) or not name:
            raise ApiError(422, "param.Invalid", "%s: give a file name" % field, field=field)
        if len(name) > MAX_NAME:
            raise ApiError(422, "param.Invalid", "%s: a name of %d characters is too long (at most "
                           "%d)" % (field, len(name), MAX_NAME), field=field)
        if "\0" in name:
            raise ApiError(422, "param.Invalid", "%s: the name contains a NUL character" % field,
                           field=field)
        if ".." in re.split(r"[/\\]", name):
            raise ApiError(403, "access.Forbidden", "%s: '..' is not allowed in %r" %
                           (field, name[:200]), field=field)

    def resolve(self, name, field="url", allow_dir=False):
        """The real path (or /vsicurl/ URL) of an existing input file."""
        self._check_name(name, field)
        if _SCHEME.match(name) and not os.path.isabs(name):
            return self._remote(name, field)
        if name.startswith("/vsi"):
            raise ApiError(403, "access.Forbidden", "%s: GDAL virtual file systems are not served"
                           % field, field=field)
        cands = [name] if os.path.isabs(name) else [os.path.join(r, name) for r in self.roots]
        found_outside = False
        for c in cands:
            real = os.path.realpath(c)
            if not self.inside(real):
                found_outside = True
                continue
            if os.path.exists(real):
                if not (os.path.isfile(real) or (allow_dir and os.path.isdir(real))):
                    raise ApiError(422, "source.Invalid", "%s: %r is not a file" %
                                   (field, name[:200]), field=field)
                return real
        if found_outside:
            raise ApiError(403, "access.Forbidden", "%s: %r is outside the served folders" %
                           (field, name[:200]), field=field)
        raise ApiError(404, "io.NotFound", "%s: %r not found in the served folders" %
                       (field, name[:200]), field=field)

    def output(self, name, field="out"):
        """The path an operation may write: inside the output folder."""
        if not self.out_dir:
            raise ApiError(403, "access.Forbidden", "%s: this server writes no files (start it "
                           "with --out-dir)" % field, field=field)
        self._check_name(name, field)
        rel = name.lstrip("/") if not os.path.isabs(name) else None
        if rel is None:
            real = os.path.realpath(name)
        else:
            real = os.path.realpath(os.path.join(self.out_dir, rel))
        if not (real == self.out_dir or real.startswith(self.out_dir + os.sep)):
            raise ApiError(403, "access.Forbidden", "%s: %r is outside the output folder" %
                           (field, name[:200]), field=field)
        os.makedirs(os.path.dirname(real), exist_ok=True)
        return real

    def _remote(self, url, field):
        u = urllib.parse.urlsplit(url)
        host = (u.hostname or "").lower()
        if u.scheme not in ("http", "https") or not host or host not in self.allow_hosts:
            raise ApiError(403, "access.Forbidden", "%s: remote files are not served%s" % (
                field, "" if self.allow_hosts else " (start the server with --allow-host HOST)"),
                field=field)
        return "/vsicurl/" + url

    def listing(self, exts=(".tif", ".tiff"), limit=1000):
        """Raster files under the roots (relative names), for the map page."""
        out = []
        for r in self.roots:
            for d, dirs, files in os.walk(r):
                dirs[:] = sorted(x for x in dirs if not x.startswith("."))
                for f in sorted(files):
                    if f.lower().endswith(exts):
                        p = os.path.join(d, f)
                        if self.inside(os.path.realpath(p)):
                            out.append(os.path.relpath(p, r))
                        if len(out) >= limit:
                            return out
        return out
