"""QGIS plug-in: eoproc's operations as a Processing provider.

Install by copying (or linking) this folder into a QGIS profile's
python/plugins folder, or pointing QGIS_PLUGINPATH at its parent. The
eoproc Python package must be importable (installed, or PYTHONPATH) and
find libeoproc (installed, or EOPROC_LIBRARY).
"""


def classFactory(iface):  # noqa: N802  (QGIS's name)
    from .plugin import EoprocPlugin

    return EoprocPlugin(iface)
