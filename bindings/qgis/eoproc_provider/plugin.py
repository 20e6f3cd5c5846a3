"""The plug-in object QGIS loads: registers the provider (also under
qgis_process, which calls initProcessing)."""
from qgis.core import QgsApplication


class EoprocPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802
        from .provider import EoprocProvider

        if self.provider is None:
            self.provider = EoprocProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
