"""Error bodies of the server: one JSON object per error, always with the
status id.

    {"detail": "one line naming the problem", "id": "param.Invalid", ...}

Library errors keep the library's id (eoproc.Error.id); the server's own
refusals use ids of the same shape (access.Forbidden, auth.Required,
request.TooLarge, route.NotFound, method.NotAllowed)."""

import re

# status id of the library -> HTTP status: what the user got wrong is 4xx
_HTTP = {
    "io.NotFound": 404,
    "op.Unknown": 404,
    "access.Forbidden": 403,
    "auth.Required": 401,
    "request.TooLarge": 413,
    "memory.Exhausted": 503,
    "cancelled": 503,
    "internal": 500,
    "unknown": 500,
    "io.Write": 500,
    "io.Error": 500,
}


def http_status(sid):
    """HTTP status for a status id: 422 for everything the request chose
    (parameters, geometry, sources, expressions, limits)."""
    return _HTTP.get(sid, 422)


_FIELD = re.compile(r"(?:unknown )?parameter '([^']+)'")


def field_of(message):
    """The parameter a registry message names ("parameter 'zoom': ...")."""
    m = _FIELD.search(message or "")
    return m.group(1) if m else None


def one_line(text, limit=500):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ApiError(Exception):
    """An error answered as {"detail", "id", **extra} with an HTTP status."""

    def __init__(self, status, sid, detail, **extra):
        super().__init__(detail)
        self.status = status
        self.sid = sid
        self.detail = one_line(detail)
        self.extra = extra

    def body(self):
        d = {"detail": self.detail, "id": self.sid}
        d.update(self.extra)
        return d


def from_eoproc(e, **extra):
    """An ApiError for an eoproc.Error."""
    return ApiError(http_status(e.id), e.id, e.message, **extra)
