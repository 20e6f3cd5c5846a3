"""Build hook of `pip install .` (see pyproject.toml): builds libeoproc.so.1
with CMake (Release, library target only) and puts it beside the package,
where eoproc._lib finds it first. EOPROC_PREBUILT_LIBRARY=/path/to/
libeoproc.so.1 bundles an existing build instead; EOPROC_JOBS sets the
build's parallelism (default 2)."""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = os.path.dirname(os.path.abspath(__file__))
SONAME = "libeoproc.so.1"


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = os.environ.get("EOPROC_PREBUILT_LIBRARY") or self._build_library()
        if not os.path.isfile(lib):
            raise SystemExit("eoproc: %s is not a file" % lib)
        shutil.copyfile(os.path.realpath(lib), os.path.join(self.build_lib, "eoproc", SONAME))

    def _build_library(self):
        build = os.path.join(ROOT, "build", "pip")
        jobs = os.environ.get("EOPROC_JOBS", "2")
        for cmd in (
            ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
             "-DEOPROC_TESTS=OFF", "-DEOPROC_INSTALL_PYTHON=OFF"],
            ["cmake", "--build", build, "--target", "eoproc", "-j", jobs],
        ):
            try:
                subprocess.check_call(cmd)
            except (OSError, subprocess.CalledProcessError) as e:
                raise SystemExit("eoproc: building the C library failed (%s); run "
                                 "scripts/deps.sh for the build tools and libraries" % e)
        return os.path.join(build, SONAME)


class BinaryDistribution(Distribution):
    """The wheel holds a compiled library: tag it for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
