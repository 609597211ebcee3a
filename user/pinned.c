// SPDX-License-Identifier: GPL-2.0
/* pinned.c: a pinned map from another build is checked against this one's BTF, never misread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "pinned.h"

/* Deeper than any of our types nest; bounds the walk on a hostile or cyclic BTF. */
#define PC_BTF_MAX_DEPTH 16

static const struct btf_type *resolved(const struct btf *btf, __u32 *id)
{
	int r = btf__resolve_type(btf, *id);

	if (r < 0)
		return NULL;
	*id = r;
	return btf__type_by_id(btf, r);
}

static bool same_name(const struct btf *a, __u32 oa, const struct btf *b, __u32 ob)
{
	const char *na = btf__name_by_offset(a, oa), *nb = btf__name_by_offset(b, ob);

	return na && nb && !strcmp(na, nb);
}

static bool same(const struct btf *a, __u32 ida, const struct btf *b, __u32 idb, int depth)
{
	const struct btf_type *ta, *tb;
	__u16 i, n;

	if (depth > PC_BTF_MAX_DEPTH)
		return false;
	ta = resolved(a, &ida);
	tb = resolved(b, &idb);
	if (!ta || !tb || btf_kind(ta) != btf_kind(tb) || btf_vlen(ta) != btf_vlen(tb))
		return false;
	n = btf_vlen(ta);
	switch (btf_kind(ta)) {
	case BTF_KIND_INT:
		return ta->size == tb->size && *(const __u32 *)(ta + 1) == *(const __u32 *)(tb + 1);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FLOAT:
		return ta->size == tb->size;
	case BTF_KIND_PTR:
		return true; /* a pointer is a pointer's size, whatever it points to */
	case BTF_KIND_ARRAY: {
		const struct btf_array *aa = btf_array(ta), *ab = btf_array(tb);

		return aa->nelems == ab->nelems && same(a, aa->type, b, ab->type, depth + 1);
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *ma = btf_members(ta), *mb = btf_members(tb);

		if (ta->size != tb->size)
			return false;
		for (i = 0; i < n; i++)
			if (!same_name(a, ma[i].name_off, b, mb[i].name_off) ||
			    btf_member_bit_offset(ta, i) != btf_member_bit_offset(tb, i) ||
			    btf_member_bitfield_size(ta, i) != btf_member_bitfield_size(tb, i) ||
			    !same(a, ma[i].type, b, mb[i].type, depth + 1))
				return false;
		return true;
	}
	case BTF_KIND_DATASEC: {
		const struct btf_var_secinfo *va = btf_var_secinfos(ta), *vb = btf_var_secinfos(tb);

		if (ta->size != tb->size)
			return false;
		for (i = 0; i < n; i++) {
			const struct btf_type *xa = btf__type_by_id(a, va[i].type);
			const struct btf_type *xb = btf__type_by_id(b, vb[i].type);

			if (!xa || !xb || btf_kind(xa) != BTF_KIND_VAR ||
			    btf_kind(xb) != BTF_KIND_VAR || va[i].offset != vb[i].offset ||
			    va[i].size != vb[i].size ||
			    !same_name(a, xa->name_off, b, xb->name_off) ||
			    !same(a, xa->type, b, xb->type, depth + 1))
				return false;
		}
		return true;
	}
	default:
		return false; /* nothing of ours is laid out with other kinds */
	}
}

bool pc_btf_same_layout(const struct btf *a, __u32 ida, const struct btf *b, __u32 idb)
{
	return same(a, ida, b, idb, 0);
}

const char *pc_map_shape_mismatch(const struct pc_map_shape *want,
				  const struct pc_map_shape *pinned)
{
	if (want->type != pinned->type)
		return "map type";
	if (want->key_size != pinned->key_size)
		return "key size";
	if (want->value_size != pinned->value_size)
		return "value size";
	if (want->max_entries != pinned->max_entries)
		return "number of entries";
	if (want->flags != pinned->flags)
		return "map flags";
	return NULL;
}

/* Why the pinned map (fd) does not fit map, or NULL. */
static const char *misfit(const struct bpf_object *obj, const struct bpf_map *map, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct pc_map_shape want = {
		.type = bpf_map__type(map),
		.key_size = bpf_map__key_size(map),
		.value_size = bpf_map__value_size(map),
		.max_entries = bpf_map__max_entries(map),
		.flags = bpf_map__map_flags(map),
	};
	struct pc_map_shape have;
	const char *why;
	struct btf *kbtf;
	bool ok;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return "unreadable";
	have = (struct pc_map_shape){info.type, info.key_size, info.value_size, info.max_entries,
				     info.map_flags};
	why = pc_map_shape_mismatch(&want, &have);
	if (why)
		return why;
	if (!info.btf_id || !info.btf_value_type_id)
		return "no BTF to check its layout against";
	kbtf = btf__load_from_kernel_by_id(info.btf_id);
	if (!kbtf)
		return "its BTF cannot be read";
	ok = pc_btf_same_layout(bpf_object__btf(obj), bpf_map__btf_value_type_id(map), kbtf,
				info.btf_value_type_id);
	btf__free(kbtf);
	return ok ? NULL : "value layout";
}

int pc_pinned_check(struct bpf_object *obj, bool all_stale, __u32 *stale_ids, int max)
{
	struct bpf_map *map;
	int n = 0;

	bpf_object__for_each_map(map, obj)
	{
		const char *path = bpf_map__pin_path(map), *why;
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd;

		if (!path)
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* no pin yet: the load creates and pins the map */
		why = all_stale ? "layout version" : misfit(obj, map, fd);
		if (!why) {
			close(fd);
			continue;
		}
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && n < max)
			stale_ids[n] = info.id;
		close(fd);
		if (unlink(path)) {
			pc_err("pinned map %s is from another portcanary build (%s differs) and "
			       "cannot be removed: %s; remove it, or use another --state-dir",
			       path, why, strerror(errno));
			return -errno;
		}
		pc_warn("pinned map %s is from another portcanary build (%s differs): replaced; "
			"its counts start again from zero",
			path, why);
		n++;
	}
	return n;
}
