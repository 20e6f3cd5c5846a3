/* op_list.h - every registered operation, in the order `eoproc ops` lists
 * them. A new capability adds its descriptor here. */
#ifndef EOI_OP_LIST_H
#define EOI_OP_LIST_H

#include "ops_int.h"

extern const eoi_op eoi_op_info;
extern const eoi_op eoi_op_aoi_area;
extern const eoi_op eoi_op_polygonize;

static const eoi_op *const eoi_ops[] = {
    &eoi_op_info,
    &eoi_op_aoi_area,
    &eoi_op_polygonize,
};

#endif
