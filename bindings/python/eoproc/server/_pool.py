"""Open datasets kept across requests: a bounded LRU of files, each with a
few open handles so that concurrent tiles of one file do not queue on one
handle (an eoproc.Dataset is used by one thread at a time)."""

import collections
import contextlib
import os
import threading

import eoproc


class DatasetPool:
    def __init__(self, max_files=64, per_file=4):
        self.max_files = max(1, int(max_files))
        self.per_file = max(1, int(per_file))
        self._lock = threading.Lock()
        # key -> [idle datasets]; a key is (path, mtime, size): a file
        # replaced on disk is opened afresh
        self._idle = collections.OrderedDict()
        self.opened = 0  # handles opened so far (tests read it)

    @staticmethod
    def _key(path):
        try:
            st = os.stat(path)
            return (path, st.st_mtime_ns, st.st_size)
        except OSError:
            return (path, 0, 0)

    @contextlib.contextmanager
    def get(self, path):
        key = self._key(path)
        ds = None
        with self._lock:
            idle = self._idle.get(key)
            if idle is not None:
                self._idle.move_to_end(key)
                if idle:
                    ds = idle.pop()
        if ds is None:
            ds = eoproc.open(path)
            with self._lock:
                self.opened += 1
        try:
            yield ds
        finally:
            self._release(key, ds)

    def _release(self, key, ds):
        close = []
        with self._lock:
            idle = self._idle.setdefault(key, [])
            self._idle.move_to_end(key)
            if len(idle) < self.per_file:
                idle.append(ds)
            else:
                close.append(ds)
            while len(self._idle) > self.max_files:
                _, old = self._idle.popitem(last=False)
                close.extend(old)
        for d in close:
            d.close()

    def clear(self):
        with self._lock:
            items = [d for v in self._idle.values() for d in v]
            self._idle.clear()
        for d in items:
            d.close()

    def size(self):
        with self._lock:
            return len(self._idle), sum(len(v) for v in self._idle.values())
