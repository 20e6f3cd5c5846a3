/* detect_params.c - the detect job's parameters, declared once: the
 * registry's "detect" and "detect_estimate" operations, eo_detect's
 * validation and eo_detect_opts_set all take their schema from this table.
 * Options a model card can give have no default here: the card's, then
 * the fallbacks in detect.c, fill them in. */
#include "jobs_int.h"

#define CARD_DEFAULT "default: the model card's, else "

const eoi_param eoi_detect_params[] = {
    {"src", "raster",
     .desc = "imagery: a GeoTIFF/COG, a folder of {z}/{x}/{y} (XYZ or TMS) or {quadkey} tiles, an "
             "MBTiles file, or a URL template (https://host/{z}/{x}/{y}.png; {-y} for TMS rows, "
             "{q} for QuadKeys) fetched by the host"},
    {"aoi", "object|string", .desc = "area of interest: GeoJSON (object, text or file)"},
    {"out", "string",
     .desc = "output: .geojson (RFC 7946), .gpkg, .fgb (absent: the result holds the GeoJSON)"},
    {"crs", "string", "\"EPSG:4326\"",
     .desc = "CRS of the AOI's coordinates when the GeoJSON "
             "names none"},
    {"repair", "boolean", "false", .desc = "repair an invalid AOI instead of failing"},
    {"allow_z", "boolean", "false", .desc = "accept 3D positions and drop the altitude"},
    {"model", "string",
     .desc = "ONNX segmentation model (default: the demo building model, models/buildings.onnx; "
             "or $EOPROC_MODEL)"},
    {"zoom", "integer", .min = "0", .max = "30", .desc = "zoom a tile source is read at"},
    {"scheme", "string", "\"auto\"", .choices = "auto|xyz|tms|quadkey",
     .desc = "tile folder layout (auto: tms when the folder has tilemapresource.xml)"},
    {"tile_size", "integer", "256", "1", "4096", .desc = "source tile size in pixels"},
    {"tile_cache_mb", "integer", "128", "0", "65536",
     .desc = "memory for decoded source tiles (MiB; at least two rows of tiles); tiles a coming "
             "partition reads are kept up to 4 times this"},
    {"corrupt_as_missing", "boolean", "false",
     .desc = "read undecodable tiles as missing instead of failing their partition"},
    {"bands", "array", .items = "integer", .min = "1",
     .desc = "source bands fed to the model, in order (" CARD_DEFAULT "1, 2, 3)"},
    {"scale", "number|string",
     .desc = "input scale, a number or a fraction (" CARD_DEFAULT "1/255)"},
    {"mean", "array", .items = "number",
     .desc = "per-band mean subtracted after scaling (" CARD_DEFAULT "0)"},
    {"std", "array", .items = "number",
     .desc = "per-band standard deviation divided by (" CARD_DEFAULT "1)"},
    {"threshold", "number", .min = "0", .max = "1",
     .desc = "probability threshold of a one-channel model (" CARD_DEFAULT "0.5)"},
    {"activation", "string", .choices = "auto|none|sigmoid|softmax",
     .desc = "model output to probabilities (" CARD_DEFAULT "auto)"},
    {"model_precision", "string", .choices = "fp32|bf16",
     .desc = "arithmetic of the convolutions: bf16 runs them in bfloat16 (FP32 sums) where the "
             "CPU has AVX512_BF16, else FP32 with a warning (" CARD_DEFAULT "fp32)"},
    {"tile", "integer", .min = "16", .max = "4096",
     .desc = "model tile size in pixels (" CARD_DEFAULT "512)"},
    {"overlap", "integer", .min = "0", .max = "2048",
     .desc = "overlap of neighbouring model tiles (" CARD_DEFAULT "64)"},
    {"batch", "integer", "1", "1", "64", .desc = "model tiles per run"},
    {"classes", "array", .items = "string",
     .desc = "class names, by class value (" CARD_DEFAULT "background, building)"},
    {"background", "integer", "0", "0", "254", .desc = "the class never written"},
    {"blocks", "string", "\"\"", .empty_ok = true,
     .desc = "post-processing blocks on or off: min_area, fill_holes, simplify, regularize, "
             "classify (e.g. simplify=on,regularize=off)"},
    {"min_area", "number", .min = "0",
     .desc = "min_area block: drop features below this area (m2; " CARD_DEFAULT "4)"},
    {"fill_holes", "number", .min = "0",
     .desc = "fill_holes block: fill holes below this area (m2; " CARD_DEFAULT "4)"},
    {"simplify", "number", .min = "0",
     .desc = "simplify block: tolerance (m; " CARD_DEFAULT "0.3)"},
    {"connectivity", "integer", "4", .choices = "4|8", .desc = "pixel connectivity of a feature"},
    {"partition_tiles", "integer", "8", "0", "1024",
     .desc = "partition side in model tile steps (0: one partition)"},
    {"max_area_km2", "number", "100", "0", .exclusive_min = true,
     .desc = "largest AOI accepted (km2)"},
    {"max_tiles", "integer", "50000", "1", .desc = "most source tiles a run may fetch"},
    {"max_pixel_size", "number", .min = "0", .exclusive_min = true,
     .desc = "coarsest source pixel size the model takes (m; default: the model card's "
             "pixel_size_m.max, else no limit)"},
    {"min_coverage", "number", "0.5", "0", "1", .desc = "least share of the AOI with imagery"},
    {"keep_rasters", "string",
     .desc = "folder to keep each partition's probability and class rasters in"},
    {"job", "string", .desc = "job folder: keeps the run's state (resume with eoproc job resume)"},
    {"format", "string", .choices = "geojson|gpkg|fgb",
     .desc = "output format (default: from the extension)"},
    {"precision", "integer", .min = "0", .max = "17",
     .desc = "GeoJSON coordinate decimals (default 7)"},
    {"estimate", "boolean", "false",
     .desc = "only estimate: area, tiles, pixels, partitions, GFLOP, time, cost"},
    {"price_per_km2", "number", .min = "0", .desc = "price per km2, for the estimate's cost"},
    {0},
};

eo_status eoi_detect_schema(eo_ctx *ctx, json_object **out) {
    const eoi_param *t[1] = {eoi_detect_params};
    return eoi_params_object_schema(ctx, out, "detect", NULL, t, 1, EOI_DETECT_REQUIRED,
                                    EOI_DETECT_POSITIONAL);
}
