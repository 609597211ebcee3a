/* SPDX-License-Identifier: GPL-2.0 */
/* pinned.h: are the maps pinned in a state dir laid out as this build's? (BTF, not sizes alone) */
#ifndef PC_PINNED_H
#define PC_PINNED_H

#include <stdbool.h>
#include <linux/types.h>

struct btf;
struct bpf_object;

/*
 * Whether two BTF types lay memory out alike: the same kinds, sizes, member names, offsets
 * and bitfield widths, array lengths and element types, recursively (typedefs and
 * qualifiers looked through; names of the types themselves do not matter). Pure.
 */
bool pc_btf_same_layout(const struct btf *a, __u32 ida, const struct btf *b, __u32 idb);

/* What is wrong with a pinned map for a map definition, or NULL when it fits. Pure. */
struct pc_map_shape {
	__u32 type, key_size, value_size, max_entries, flags;
};
const char *pc_map_shape_mismatch(const struct pc_map_shape *want,
				  const struct pc_map_shape *pinned);

/*
 * For every map of obj (opened, not loaded) with a pin path whose pin exists: if the pinned
 * map is not laid out as obj's definition says (type, sizes, flags, or its value's BTF
 * layout), or every pin is stale (all_stale: the pins' layout version is another one), the
 * pin is removed with a log line, so that the load creates the map anew instead of
 * misreading the old one, and its id is put in stale_ids (up to max). Returns how many pins
 * were stale, or -errno.
 */
int pc_pinned_check(struct bpf_object *obj, bool all_stale, __u32 *stale_ids, int max);

#endif
