"""Starting and stopping a real eoproc server process (uvicorn on a free
loopback port) for the server tests, and an HTTP client for it."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """python3 -m eoproc.server in a child process; stop() ends it."""

    def __init__(self, roots, *args, token=None, log=None):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.token = token
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO / "bindings" / "python")] + [p for p in [env.get("PYTHONPATH")] if p])
        env.pop("EOPROC_SERVER_TOKEN", None)
        if token:
            env["EOPROC_SERVER_TOKEN"] = token
        cmd = [sys.executable, "-m", "eoproc.server", "--port", str(self.port)]
        for r in roots:
            cmd += ["--root", str(r)]
        cmd += [str(a) for a in args]
        self.log_path = log
        self._log = open(log, "wb") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s: %s" % (self.proc.returncode,
                                                                   self.log_text()))
            try:
                st, _, _ = self.get("/healthz")
                if st == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("server did not answer in 30 s: %s" % self.log_text())
            time.sleep(0.1)

    def log_text(self):
        if not self.log_path:
            return ""
        return pathlib.Path(self.log_path).read_text(errors="replace")[-4000:]

    def request(self, method, path, body=None, headers=None, auth=True):
        h = dict(headers or {})
        if self.token and auth:
            h.setdefault("Authorization", "Bearer " + self.token)
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def json(self, method, path, body=None, **kw):
        st, h, b = self.request(method, path, body, **kw)
        return st, json.loads(b) if b else None

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
