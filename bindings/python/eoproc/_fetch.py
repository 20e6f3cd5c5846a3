"""Tile URLs fetched for the library, which does no networking itself.

Every context the package makes registers a fetcher
(``eo_ctx_set_tile_url_fetcher``), so that URL templates
("https://host/{z}/{x}/{y}.png", also ``{-y}`` and ``{q}``) work as sources
of :func:`eoproc.detect`, :func:`eoproc.open_tiles`, :class:`eoproc.Job` and
the registry's operations. The default uses ``urllib.request`` with the
semantics of the eoproc CLI (tools/cli_fetch.c):

- 2xx with a body: the tile; 404 and 204: a missing tile;
- 429, 5xx, a timeout, a dropped or refused connection, a truncated body:
  retried (``retries``, default 3) after 0.25 s, 0.5 s, 1 s, ... (at most
  8 s; a Retry-After header in seconds is honoured up to 30 s);
- anything else: an error naming the HTTP status (or the failure), the URL
  and the attempts, which reaches the caller's message with z/x/y.

Each attempt times out after ``timeout`` seconds (EOPROC_HTTP_TIMEOUT, else
30). :func:`set_url_fetcher` replaces the default by the user's own
``fn(url) -> bytes | None`` (another client), and sets HTTP headers, basic
auth, a limit of requests in flight and a disk cache of tiles, in the CLI's
format (a cache written by one is read by the other): one file per URL,
``DIR/KK/REST.tile`` where KKREST is the 64-bit FNV-1a hash of the URL in hex,
holding ``"eoproc-tile 1\n" URL "\n" 200|404 "\n" body``; a file naming
another URL is a miss; written under a temporary name and renamed.
"""

import base64
import http.client
import itertools
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from ctypes import CFUNCTYPE, c_char_p, c_int, c_size_t, c_void_p

from . import _lib

# int (*eo_tile_url_fn)(void *user, const char *url, eo_tile_sink *sink)
URL_FN = CFUNCTYPE(c_int, c_void_p, c_char_p, c_void_p)

_set_fetcher = _lib._fn("eo_ctx_set_tile_url_fetcher", _lib.status, [_lib.ctx_p, URL_FN, c_void_p])
_sink_set = _lib._fn("eo_tile_sink_set", _lib.status, [c_void_p, c_char_p, c_size_t])
_sink_error = _lib._fn("eo_tile_sink_set_error", None, [c_void_p, c_char_p])

MAX_BYTES = 64 << 20  # the library refuses larger tiles
_FIRST_DELAY, _MAX_DELAY, _MAX_RETRY_AFTER = 0.25, 8.0, 30.0

_lock = threading.Lock()
_user_fn = None
_retries = 3
_timeout = None  # None: EOPROC_HTTP_TIMEOUT, else 30 s
_headers = {}
_slots = threading.BoundedSemaphore(8)
_cache_dir = None
_tmp_seq = itertools.count()
_CACHE_MAGIC = b"eoproc-tile 1\n"


class FetchError(OSError):
    """A tile URL that could not be fetched (its message names the URL)."""


def _timeout_s():
    if _timeout is not None:
        return _timeout
    env = os.environ.get("EOPROC_HTTP_TIMEOUT")
    if not env:
        return 30.0
    try:
        t = float(env)
    except ValueError:
        t = float("nan")
    if not 0 < t <= 86400:
        raise FetchError("EOPROC_HTTP_TIMEOUT: expected seconds (more than 0, at most 86400), "
                         "got %r" % env[:40])
    return t


def _user_agent():
    from . import __version__

    return "eoproc/%s" % __version__


def fetch_url(url, retries=None, timeout=None):
    """GET url: its bytes, or None for a missing tile (HTTP 404 or 204).

    Raises:
        FetchError: naming the HTTP status (or the failure), the URL and the
            attempts, after the retries.
    """
    retries = _retries if retries is None else int(retries)
    timeout = _timeout_s() if timeout is None else float(timeout)
    headers = {"User-Agent": _user_agent()}
    headers.update(_headers)
    delay = _FIRST_DELAY
    attempt = 0
    while True:
        wait = None
        try:
            req = urllib.request.Request(url, headers=headers)
            with _slots, urllib.request.urlopen(req, timeout=timeout) as r:
                if r.status == 204:
                    return None
                cl = r.headers.get("Content-Length", "").strip()
                cl = int(cl) if cl.isdigit() else None
                if cl is not None and cl > MAX_BYTES:
                    raise FetchError("more than 64 MiB from %s" % url)
                data = r.read(MAX_BYTES + 1)
                if len(data) > MAX_BYTES:
                    raise FetchError("more than 64 MiB from %s" % url)
                if cl is not None and len(data) < cl:  # read(n) returns a cut body quietly
                    raise http.client.IncompleteRead(data, cl - len(data))
                return data
        except urllib.error.HTTPError as e:
            if e.code in (404, 204):
                return None
            what = "HTTP %d %s from %s" % (e.code, e.reason, url)
            again = e.code == 429 or 500 <= e.code <= 599
            ra = e.headers.get("Retry-After") if e.headers else None
            if ra and ra.strip().isdigit():
                wait = min(float(ra), _MAX_RETRY_AFTER)
        except FetchError:
            raise
        except (socket.timeout, TimeoutError):
            what, again = "timed out after %g s fetching %s" % (timeout, url), True
        except urllib.error.URLError as e:
            r = e.reason
            if isinstance(r, (socket.timeout, TimeoutError)):
                what, again = "timed out after %g s fetching %s" % (timeout, url), True
            else:
                what, again = "%s fetching %s" % (r, url), isinstance(r, ConnectionError)
        except http.client.IncompleteRead as e:
            what = "a truncated body (%d bytes, %d more expected) from %s" % (
                len(e.partial), e.expected or 0, url)
            again = True
        except (http.client.HTTPException, ConnectionError) as e:
            what, again = "%s fetching %s" % (e or type(e).__name__, url), True
        if not again or attempt >= retries:
            break
        time.sleep(delay if wait is None else wait)
        delay = min(delay * 2, _MAX_DELAY)
        attempt += 1
    n = attempt + 1
    raise FetchError("%s (%d attempt%s)" % (what, n, "" if n == 1 else "s"))


def _fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def cache_path(cache_dir, url):
    """The file of url in the tile cache cache_dir (the CLI's layout)."""
    h = "%016x" % _fnv1a64(url.encode("utf-8"))
    return os.path.join(os.fspath(cache_dir), h[:2], h[2:] + ".tile")


def _cache_read(cache_dir, url):
    """(True, bytes | None) for a hit, (False, None) for a miss."""
    try:
        with open(cache_path(cache_dir, url), "rb") as f:
            data = f.read()
    except OSError:
        return False, None
    head = _CACHE_MAGIC + url.encode("utf-8") + b"\n"
    if not data.startswith(head) or data[len(head) + 3:len(head) + 4] != b"\n":
        return False, None  # another URL's file (a collision) or malformed
    code = data[len(head):len(head) + 3]
    if code == b"404":
        return True, None
    if code == b"200":
        return True, data[len(head) + 4:]
    return False, None


def _cache_write(cache_dir, url, data):
    if "\n" in url:
        return
    path = cache_path(cache_dir, url)
    blob = (_CACHE_MAGIC + url.encode("utf-8") + b"\n" +
            (b"404\n" if data is None else b"200\n" + bytes(data)))
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = "%s.%d.py%d.tmp" % (path, os.getpid(), next(_tmp_seq))
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except OSError as e:
        raise FetchError("cannot write the tile cache file %s: %s" % (path, e.strerror or e))
    _cache_account(cache_dir, len(blob))


# The cache's bound, as the CLI keeps it (tools/cli_fetch.c): the folder is
# summed at this process's first write, the sum kept up to date, and past the
# bound the tiles used longest ago (a hit touches its file) are removed down
# to 90% of it; those scans also remove temporary files over an hour old.
_CACHE_KEEP = 0.9
_CACHE_STALE_TMP_S = 3600
_cache_max = 2048 << 20  # bytes, 0: no bound
_cache_total = {}  # cache folder -> bytes of its tiles, once summed
_cache_lock = threading.Lock()


def _cache_scan(cache_dir, evict):
    total, files, now = 0, [], time.time()
    try:
        subs = [e for e in os.scandir(cache_dir)
                if len(e.name) == 2 and all(c in "0123456789abcdefABCDEF" for c in e.name)]
    except OSError:
        subs = []
    for sub in subs:
        try:
            entries = list(os.scandir(sub.path))
        except OSError:
            continue
        for e in entries:
            tile, tmp = e.name.endswith(".tile"), e.name.endswith(".tmp")
            if not tile and not tmp:
                continue
            try:
                st = e.stat()
            except OSError:
                continue  # removed meanwhile
            if tmp:
                if now - st.st_mtime > _CACHE_STALE_TMP_S:
                    try:
                        os.remove(e.path)
                    except OSError:
                        pass
                continue
            total += st.st_size
            files.append((st.st_mtime_ns, e.path, st.st_size))
    if evict and total > _cache_max:
        keep = int(_CACHE_KEEP * _cache_max)
        for _, path, size in sorted(files):
            if total <= keep:
                break
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
            except OSError:
                continue
            total -= size
    return total


def _cache_account(cache_dir, nbytes):
    if not _cache_max:
        return
    with _cache_lock:
        total = _cache_total.get(cache_dir)
        total = _cache_scan(cache_dir, False) if total is None else total + nbytes
        if total > _cache_max:
            total = _cache_scan(cache_dir, True)
        _cache_total[cache_dir] = total


def _fetch_cached(get, url):
    cache_dir = _cache_dir
    if cache_dir is not None:
        hit, data = _cache_read(cache_dir, url)
        if hit:
            try:  # recently used: the last to go
                os.utime(cache_path(cache_dir, url))
            except OSError:
                pass
            return data
    data = get()
    if cache_dir is not None:
        _cache_write(cache_dir, url, data)
    return data


def deliver(sink, get):
    """Hand get()'s bytes (None: missing) to an eo_tile_sink; 0, or 1 with
    the exception's message on the sink. Never lets an exception into C."""
    try:
        data = get()
        if data is None:
            return 0
        data = bytes(data)
        return 0 if _sink_set(sink, data, len(data)) == _lib.EO_OK else 1
    except BaseException as e:  # noqa: B036 - nothing may cross into C
        msg = str(e) if isinstance(e, FetchError) else "%s: %s" % (type(e).__name__, e)
        _sink_error(sink, msg.encode("utf-8", "replace")[:250])
        return 1


def _call(user, url, sink):
    u = url.decode("utf-8", "replace")
    fn = _user_fn
    if fn is not None:
        def get():
            with _slots:
                return fn(u)
    else:
        def get():
            return fetch_url(u)
    return deliver(sink, lambda: _fetch_cached(get, u))


_CFUNC = URL_FN(_call)


def register(ctx):
    """Let datasets opened on ctx (an eo_ctx pointer) read URL templates."""
    _set_fetcher(ctx, _CFUNC, None)


def set_url_fetcher(fn=None, *, retries=3, timeout=None, headers=None, auth=None,
                    max_connections=8, cache_dir=None, cache_max_mb=2048):
    """How tile URLs of URL-template sources are fetched, process-wide
    (each call sets all of them; ``set_url_fetcher()`` restores the defaults).

    Args:
        fn: callable(url) -> bytes | None (None: the tile is missing; an
            exception: a fetch error naming it), called from several threads
            at once; None: the default (urllib.request, see the module's
            documentation).
        retries: retries of the default fetcher after a 429, a 5xx, a
            timeout or a dropped connection (default 3).
        timeout: seconds per attempt of the default fetcher (None:
            EOPROC_HTTP_TIMEOUT, else 30).
        headers: {name: value} sent with every request of the default fetcher.
        auth: (user, password) or "user:password": basic auth of the
            default fetcher.
        max_connections: requests in flight at once (default 8), of the
            default fetcher or of calls of fn.
        cache_dir: a folder of fetched tiles (and 404s) read before fetching,
            in the CLI's format (its --tile-cache); None: no cache.
        cache_max_mb: the cache's bound in MiB (default 2048; 0: none):
            past it the tiles used longest ago are removed, down to 90%.
    """
    global _user_fn, _retries, _timeout, _headers, _slots, _cache_dir, _cache_max
    from . import _arg_error

    if fn is not None and not callable(fn):
        raise _arg_error("fn must be callable(url) -> bytes | None, got %r" % (fn,))
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 100:
        raise _arg_error("retries must be an integer from 0 to 100, got %r" % (retries,))
    try:
        t = None if timeout is None else float(timeout)
    except (TypeError, ValueError):
        t = float("nan")
    if t is not None and (isinstance(timeout, bool) or not 0 < t <= 86400):
        raise _arg_error("timeout must be seconds (more than 0, at most 86400), got %r"
                         % (timeout,))
    if headers is not None and not isinstance(headers, dict):
        raise _arg_error("headers must be a dict {name: value}, got %r" % (headers,))
    hdrs = {}
    for k, v in (headers or {}).items():
        if (not isinstance(k, str) or not isinstance(v, str) or not k
                or any(c in k for c in ": \t\r\n") or any(c in v for c in "\r\n")):
            raise _arg_error("headers must be {name: value} strings without line breaks, got %r"
                             % ((k, v),))
        hdrs[k] = v
    if auth is not None:
        if isinstance(auth, (tuple, list)) and len(auth) == 2:
            user, pw = auth
            up = "%s:%s" % (user, pw) if isinstance(user, str) and isinstance(pw, str) else None
        else:
            up = auth if isinstance(auth, str) else None
        if not up or up.startswith(":") or ":" not in up or any(c in up for c in "\r\n"):
            raise _arg_error("auth must be (user, password) or 'user:password', got %r"
                             % (auth if not up else up.split(":", 1)[0] + ":...",))
        hdrs["Authorization"] = "Basic " + base64.b64encode(up.encode("utf-8")).decode("ascii")
    if (isinstance(max_connections, bool) or not isinstance(max_connections, int)
            or not 1 <= max_connections <= 256):
        raise _arg_error("max_connections must be an integer from 1 to 256, got %r"
                         % (max_connections,))
    if cache_dir is not None:
        try:
            cache_dir = os.fspath(cache_dir)
        except TypeError:
            raise _arg_error("cache_dir must be a folder path, got %r" % (cache_dir,)) from None
        if not cache_dir or (os.path.exists(cache_dir) and not os.path.isdir(cache_dir)):
            raise _arg_error("cache_dir: %r is not a folder" % (cache_dir,))
        try:
            os.makedirs(cache_dir, exist_ok=True)
        except OSError as e:
            raise _arg_error("cache_dir: cannot create the folder %r: %s"
                             % (cache_dir, e.strerror or e)) from None
    try:
        mb = float(cache_max_mb)
    except (TypeError, ValueError):
        mb = float("nan")
    if isinstance(cache_max_mb, bool) or not 0 <= mb <= 1e9:
        raise _arg_error("cache_max_mb must be MiB (0 for no bound, at most 1e9), got %r"
                         % (cache_max_mb,))
    with _lock:
        _cache_max = int(mb * 1048576)
        _user_fn = fn
        _retries = retries
        _timeout = t
        _headers = hdrs
        _slots = threading.BoundedSemaphore(max_connections)
        _cache_dir = cache_dir
