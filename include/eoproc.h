/*
 * eoproc - an embeddable geoprocessing engine.
 *
 * The one public header. Link with -leoproc (pkg-config eoproc, or CMake
 * find_package(eoproc) and target eoproc::eoproc).
 */
#ifndef EOPROC_H
#define EOPROC_H

#include "eoproc/analytics.h"
#include "eoproc/clip.h"
#include "eoproc/cog.h"
#include "eoproc/core.h"
#include "eoproc/detect.h"
#include "eoproc/geom.h"
#include "eoproc/infer.h"
#include "eoproc/ops.h"
#include "eoproc/raster.h"
#include "eoproc/segment.h"
#include "eoproc/tiles.h"
#include "eoproc/tilesrc.h"
#include "eoproc/vector.h"

#endif /* EOPROC_H */
