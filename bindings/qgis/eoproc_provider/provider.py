"""eoproc's Processing provider: one algorithm per registered operation,
its parameters generated from the operation's JSON Schema
(eoproc.schema(name)), each run through eoproc.run()."""
import json

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsProcessingProvider,
)

# operations of the job machinery (they act on a job folder the CLI or
# eoproc.detect made): not tools a toolbox user runs one by one
_SKIP_PREFIX = ("job_",)
_VECTOR_FILTER = "GeoJSON (*.geojson);;GeoPackage (*.gpkg);;FlatGeobuf (*.fgb)"
_IMAGE_FILTER = "PNG (*.png);;JPEG (*.jpg);;WebP (*.webp);;GeoTIFF (*.tif)"


def _types(prop):
    t = prop.get("type", "string")
    return set(t) if isinstance(t, list) else {t}


def _is_raster(name, prop):
    """A raster input: the registry's raster type (a path or a list of
    paths), or a path parameter its description calls a raster."""
    t = _types(prop)
    if t == {"string", "array"}:
        return True
    desc = prop.get("description", "").lower()
    return t == {"string"} and name != "out" and "raster" in desc and "output" not in desc


def _output_kind(props):
    """How the operation's "out" is asked for: a folder, a vector file (the
    operation has a vector format choice), a raster (a COG / .tif), or
    another file (an image)."""
    desc = props["out"].get("description", "").lower()
    formats = props.get("format", {}).get("enum", [])
    if "folder" in desc:
        return "folder_out"
    if "geojson" in formats:
        return "file_out"
    if "cog" in desc or ".tif" in desc:
        return "raster_out"
    return "image_out"


class EoprocAlgorithm(QgsProcessingAlgorithm):
    """One registered operation. kind maps each schema property to how its
    QGIS parameter turns back into the operation's JSON value."""

    def __init__(self, entry, schema):
        super().__init__()
        self._entry = entry
        self._schema = schema
        self._kind = {}

    def createInstance(self):  # noqa: N802
        return EoprocAlgorithm(self._entry, self._schema)

    def name(self):
        return self._entry["name"]

    def displayName(self):  # noqa: N802
        return self._entry["name"].replace("_", " ")

    def shortHelpString(self):  # noqa: N802
        return self._entry.get("summary", "")

    def initAlgorithm(self, config=None):  # noqa: N802
        props = self._schema.get("properties", {})
        required = set(self._schema.get("required", []))
        for name, prop in props.items():
            opt = name not in required
            desc = prop.get("description", name)
            default = prop.get("default")
            t = _types(prop)
            if name == "aoi":
                self.addParameter(QgsProcessingParameterVectorLayer(
                    name, "AOI (polygon layer or GeoJSON file)",
                    [QgsProcessing.TypeVectorPolygon], optional=True))
                self.addParameter(QgsProcessingParameterExtent(
                    "aoi_extent", "AOI as an extent (instead of a layer)", optional=True))
                self._kind[name] = "aoi"
            elif name == "out":
                kind = _output_kind(props)
                if kind == "raster_out":
                    p = QgsProcessingParameterRasterDestination(name, desc, optional=opt)
                elif kind == "folder_out":
                    p = QgsProcessingParameterFolderDestination(name, desc, optional=opt)
                else:
                    p = QgsProcessingParameterFileDestination(
                        name, desc, _VECTOR_FILTER if kind == "file_out" else _IMAGE_FILTER,
                        optional=opt)
                self._kind[name] = kind
                self.addParameter(p)
            elif _is_raster(name, prop):
                self.addParameter(QgsProcessingParameterRasterLayer(name, desc, optional=opt))
                self._kind[name] = "raster"
            elif "enum" in prop:
                choices = [str(c) for c in prop["enum"]]
                d = choices.index(str(default)) if default is not None else None
                self.addParameter(QgsProcessingParameterEnum(
                    name, desc, choices, defaultValue=d, optional=opt))
                self._kind[name] = ("enum", prop["enum"])
            elif t == {"boolean"}:
                self.addParameter(QgsProcessingParameterBoolean(
                    name, desc, defaultValue=bool(default), optional=True))
                self._kind[name] = "bool"
            elif t <= {"integer", "number"}:
                integer = t == {"integer"}
                p = QgsProcessingParameterNumber(
                    name, desc,
                    QgsProcessingParameterNumber.Integer if integer
                    else QgsProcessingParameterNumber.Double,
                    defaultValue=default, optional=opt or default is not None)
                if "minimum" in prop:
                    p.setMinimum(prop["minimum"])
                if "maximum" in prop:
                    p.setMaximum(prop["maximum"])
                self.addParameter(p)
                self._kind[name] = "int" if integer else "number"
            elif t == {"string"}:
                self.addParameter(QgsProcessingParameterString(
                    name, desc, defaultValue=default, optional=opt or default is not None))
                self._kind[name] = "string"
            else:
                # arrays and objects: JSON text, or for arrays a comma list
                self.addParameter(QgsProcessingParameterString(
                    name, desc + " (JSON, or a comma-separated list)", optional=True))
                self._kind[name] = "json"
        self.addOutput(QgsProcessingOutputString("RESULT", "the operation's JSON result"))

    def _aoi(self, parameters, context, params):
        layer = self.parameterAsVectorLayer(parameters, "aoi", context)
        if layer is not None:
            feats = []
            for f in layer.getFeatures():
                g = f.geometry()
                if g is None or g.isEmpty():
                    continue
                feats.append({"type": "Feature", "properties": {},
                              "geometry": json.loads(g.asJson(17))})
            if not feats:
                raise QgsProcessingException("aoi.Empty: the AOI layer has no polygon")
            crs = layer.crs()
        elif parameters.get("aoi_extent"):
            rect = self.parameterAsExtent(parameters, "aoi_extent", context)
            crs = self.parameterAsExtentCrs(parameters, "aoi_extent", context)
            g = QgsGeometry.fromRect(rect)
            feats = [{"type": "Feature", "properties": {}, "geometry": json.loads(g.asJson(17))}]
        else:
            return
        params["aoi"] = {"type": "FeatureCollection", "features": feats}
        # the coordinates stay in the layer's CRS: eoproc is told which it is
        if "crs" not in params and crs.isValid() and crs != QgsCoordinateReferenceSystem("EPSG:4326"):
            params["crs"] = crs.authid() or crs.toWkt()

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        import eoproc

        params = {}
        for name, kind in self._kind.items():
            if kind == "aoi":
                continue
            if name not in parameters or parameters[name] is None or parameters[name] == "":
                continue
            if kind == "raster":
                layer = self.parameterAsRasterLayer(parameters, name, context)
                if layer is not None:
                    params[name] = layer.source()
            elif kind == "raster_out":
                params[name] = self.parameterAsOutputLayer(parameters, name, context)
            elif kind in ("file_out", "image_out", "folder_out"):
                params[name] = self.parameterAsFileOutput(parameters, name, context)
            elif isinstance(kind, tuple):
                params[name] = kind[1][self.parameterAsEnum(parameters, name, context)]
            elif kind == "bool":
                params[name] = self.parameterAsBool(parameters, name, context)
            elif kind == "int":
                params[name] = self.parameterAsInt(parameters, name, context)
            elif kind == "number":
                params[name] = self.parameterAsDouble(parameters, name, context)
            elif kind == "string":
                params[name] = self.parameterAsString(parameters, name, context)
            else:
                text = self.parameterAsString(parameters, name, context).strip()
                try:
                    params[name] = json.loads(text)
                except ValueError:
                    params[name] = [json.loads(v) if v.strip().lstrip("-").replace(".", "", 1).isdigit()
                                    else v.strip() for v in text.split(",")]
        if "aoi" in self._kind:
            self._aoi(parameters, context, params)
        if feedback.isCanceled():
            return {}
        feedback.pushInfo("eoproc.run(%r, %s)" % (self.name(), sorted(params)))
        try:
            result = eoproc.run(self.name(), progress=lambda fraction, stage: (
                feedback.setProgress(100.0 * fraction), feedback.isCanceled())[1], **params)
        except eoproc.Error as e:
            raise QgsProcessingException(str(e))
        for w in result.get("warnings", []) if isinstance(result, dict) else []:
            feedback.reportError("warning: %s" % w)
        feedback.setProgress(100)
        out = {"RESULT": json.dumps(result)}
        for name, kind in self._kind.items():
            if kind in ("raster_out", "file_out", "image_out", "folder_out") and name in params:
                out[name] = params[name]
        return out


class EoprocProvider(QgsProcessingProvider):
    def id(self):
        return "eoproc"

    def name(self):
        return "eoproc"

    def longName(self):  # noqa: N802
        import eoproc

        return "eoproc %s" % eoproc.version()

    def loadAlgorithms(self):  # noqa: N802
        import eoproc

        for entry in eoproc.ops():
            if entry["name"].startswith(_SKIP_PREFIX):
                continue
            self.addAlgorithm(EoprocAlgorithm(entry, eoproc.schema(entry["name"])))
