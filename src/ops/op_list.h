/* op_list.h - every registered operation, in the order `eoproc ops` lists
 * them. A new capability adds its descriptor here. */
#ifndef EOI_OP_LIST_H
#define EOI_OP_LIST_H

#include "ops_int.h"

extern const eoi_op eoi_op_info;
extern const eoi_op eoi_op_aoi_area;
extern const eoi_op eoi_op_tile_bounds;
extern const eoi_op eoi_op_tiles_cover;
extern const eoi_op eoi_op_tile;
extern const eoi_op eoi_op_tiles;
extern const eoi_op eoi_op_preview;
extern const eoi_op eoi_op_indices;
extern const eoi_op eoi_op_index;
extern const eoi_op eoi_op_band_math;
extern const eoi_op eoi_op_zonal_stats;
extern const eoi_op eoi_op_change_detection;
extern const eoi_op eoi_op_time_series;
extern const eoi_op eoi_op_cog;
extern const eoi_op eoi_op_polygonize;
extern const eoi_op eoi_op_clip;
extern const eoi_op eoi_op_tiles_read;
extern const eoi_op eoi_op_segment;
extern const eoi_op eoi_op_detect;
extern const eoi_op eoi_op_detect_estimate;
extern const eoi_op eoi_op_job_status;
extern const eoi_op eoi_op_job_partitions;
extern const eoi_op eoi_op_job_resume;
extern const eoi_op eoi_op_job_restart;
extern const eoi_op eoi_op_job_cancel;
extern const eoi_op eoi_op_job_run_partition;
extern const eoi_op eoi_op_job_finalize;

/* One per line, so that additions merge cleanly. */
/* clang-format off */
static const eoi_op *const eoi_ops[] = {
    &eoi_op_info,
    &eoi_op_aoi_area,
    &eoi_op_tile_bounds,
    &eoi_op_tiles_cover,
    &eoi_op_tile,
    &eoi_op_tiles,
    &eoi_op_preview,
    &eoi_op_indices,
    &eoi_op_index,
    &eoi_op_band_math,
    &eoi_op_zonal_stats,
    &eoi_op_change_detection,
    &eoi_op_time_series,
    &eoi_op_cog,
    &eoi_op_polygonize,
    &eoi_op_clip,
    &eoi_op_tiles_read,
    &eoi_op_segment,
    &eoi_op_detect,
    &eoi_op_detect_estimate,
    &eoi_op_job_status,
    &eoi_op_job_partitions,
    &eoi_op_job_resume,
    &eoi_op_job_restart,
    &eoi_op_job_cancel,
    &eoi_op_job_run_partition,
    &eoi_op_job_finalize,
};
/* clang-format on */

#endif
