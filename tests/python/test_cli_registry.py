"""The CLI's registry commands and exit codes (issue 13, point 4).

`eoproc ops OP`, `eoproc schema OP` and `eoproc run OP --help` show what the
registry holds, checked against the library's own registry calls through
ctypes (eo_ops_list, eo_op_schema), which the CLI must not alter; exit codes
mean one thing: 2 for every usage error (a missing required option as well as
a missing positional argument or an unknown operation), 1 for a failed
operation, 130 when Ctrl-C cancels a running one.
"""
import json
import signal
import subprocess
import time

import pytest

import eoproc


def run(cli, *args, **kw):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def ops(cli):
    p = run(cli, "ops")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_ops_one_entry_is_the_registry_entry(cli, ops):
    assert len(ops) >= 10
    for entry in ops:
        for key in (entry["name"], entry["cli"]):
            p = run(cli, "ops", key)
            assert p.returncode == 0, p.stderr
            assert json.loads(p.stdout) == entry


def test_schema_is_the_librarys_schema(cli, ops):
    for entry in ops:
        p = run(cli, "schema", entry["cli"])
        assert p.returncode == 0, p.stderr
        both = json.loads(p.stdout)
        assert both["name"] == entry["name"]
        assert both["parameters"] == eoproc.schema(entry["name"])
        assert both["result"] == eoproc.result_schema(entry["name"])
        p = run(cli, "schema", entry["name"], "--params")
        assert p.returncode == 0 and json.loads(p.stdout) == both["parameters"]
        p = run(cli, "schema", "--result", entry["name"])
        assert p.returncode == 0 and json.loads(p.stdout) == both["result"]


def test_run_help_is_the_commands_help(cli, ops):
    for entry in ops:
        a = run(cli, "run", entry["name"], "--help")
        b = run(cli, entry["cli"], "--help")
        assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
        assert a.stdout == b.stdout
        assert a.stdout.startswith("Usage: eoproc " + entry["cli"])


@pytest.mark.parametrize("args", [["schema", "no_such_op"], ["ops", "no_such_op"],
                                  ["run", "no_such_op", "--help"], ["no_such_op"],
                                  ["schema"], ["schema", "clip", "extra"],
                                  ["schema", "clip", "--params", "--result"],
                                  ["schema", "clip", "--bogus"]])
def test_usage_errors_exit_2(cli, args):
    p = run(cli, *args)
    assert p.returncode == 2, (args, p.returncode, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eoproc: error: ")


def test_missing_required_option_is_a_usage_error(cli, ops, l7, tmp_path):
    """Every required parameter that is an option, not a positional argument,
    left out: exit 2 naming the option, never 1 from the operation."""
    checked = 0
    for entry in ops:
        schema = eoproc.schema(entry["name"])
        pos = schema.get("x-positional", [])
        for key in schema.get("required", []):
            if key in pos:
                continue
            # fill every positional argument with something plausible
            args = [str(l7) if k in ("src", "path", "before", "after") else str(tmp_path / k)
                    for k in pos]
            # and every other required option ("1" parses as any type)
            for other in schema["required"]:
                if other != key and other not in pos:
                    args += ["--" + other.replace("_", "-"), "1"]
            p = run(cli, entry["cli"], *args)
            assert p.returncode == 2, (entry["cli"], key, p.returncode, p.stderr)
            assert "--" + key.replace("_", "-") in p.stderr, p.stderr
            checked += 1
    assert checked >= 2  # tiles --zoom, cover --zoom, tiles-read --zoom today


def test_failed_operation_exits_1(cli, tmp_path):
    p = run(cli, "info", tmp_path / "missing.tif")
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and "[" in p.stderr


def test_sigint_cancels_and_exits_130(cli, l7, tmp_path):
    out = tmp_path / "pyr"
    proc = subprocess.Popen([cli, "tiles", str(l7), "--zoom", "10-17", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    if proc.poll() is not None:
        pytest.fail("the pyramid finished within 1 s: the test needs a longer job")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert stdout == ""
    assert "cancel" in stderr.lower()


def test_mosaic_on_the_command_line(cli, l7, tmp_path):
    """Wherever the help says "a list of files: a mosaic", the command line
    takes A.tif,B.tif or @LIST: the two halves of a scene (cut by GDAL) make
    the scene again, pixel for pixel (read back with GDAL)."""
    from osgeo import gdal
    import numpy as np
    src = gdal.Open(str(l7))
    w, h = src.RasterXSize, src.RasterYSize
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    gdal.Translate(str(a), src, srcWin=[0, 0, w // 2, h])
    gdal.Translate(str(b), src, srcWin=[w // 2, 0, w - w // 2, h])
    lst = tmp_path / "list.txt"
    lst.write_text("# the halves\n%s\n%s\n" % (a, b))
    for arg, out in (("%s,%s" % (a, b), tmp_path / "m1.tif"), ("@%s" % lst, tmp_path / "m2.tif")):
        p = run(cli, "cog", arg, str(out), "--quiet")
        assert p.returncode == 0, p.stderr
        got = gdal.Open(str(out)).ReadAsArray()
        assert np.array_equal(got, src.ReadAsArray())
        p = run(cli, "info", arg)
        assert p.returncode == 0 and json.loads(p.stdout)["width"] == w
    # a file whose name has a comma is still one file
    c = tmp_path / "x,y.tif"
    gdal.Translate(str(c), src)
    p = run(cli, "info", str(c))
    assert p.returncode == 0 and json.loads(p.stdout)["width"] == w
    p = run(cli, "info", "@" + str(tmp_path / "missing.txt"))
    assert p.returncode == 2 and "file list" in p.stderr
    assert "A.tif,B.tif or @LIST" in run(cli, "clip", "--help").stdout
