// SPDX-License-Identifier: GPL-2.0
/* dropreason.c: enum skb_drop_reason from BTF: numbers change between kernels, names do not. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

#include "dropreason.h"

struct pc_dropreasons {
	size_t n;
	struct pc_dropreason *by_enum;	 /* the kernel's order: pc_dropreasons_at() */
	struct pc_dropreason **by_value; /* sorted by value, first enumerator first */
	char *names;			 /* one block holding every short name */
};

#define FULL_PREFIX "SKB_DROP_REASON_"
/* SKB_NOT_DROPPED_YET and SKB_CONSUMED carry only this shorter prefix. */
#define SHORT_PREFIX "SKB_"

/* The classes the detector needs, by name: a name is stable across kernels, a number is not. */
static const struct {
	const char *name;
	enum pc_drop_class cls;
} class_names[] = {
	{"NOT_DROPPED_YET", PC_DROP_CLASS_NONE},
	{"CONSUMED", PC_DROP_CLASS_NONE},
	{"NETFILTER_DROP", PC_DROP_CLASS_NETFILTER},
	{"NO_SOCKET", PC_DROP_CLASS_NO_SOCKET},
	{"TCP_LISTEN_OVERFLOW", PC_DROP_CLASS_LISTEN_OVERFLOW},
};

static const char *short_name(const char *name)
{
	if (!strncmp(name, FULL_PREFIX, sizeof(FULL_PREFIX) - 1))
		return name + sizeof(FULL_PREFIX) - 1;
	if (!strncmp(name, SHORT_PREFIX, sizeof(SHORT_PREFIX) - 1))
		return name + sizeof(SHORT_PREFIX) - 1;
	return name;
}

/* MAX bounds the enum and SUBSYS_MASK selects the subsystem bits: neither is a reason. */
static int is_marker(const char *shortname)
{
	return !strcmp(shortname, "MAX") || !strcmp(shortname, "SUBSYS_MASK");
}

static enum pc_drop_class class_of_name(const char *shortname)
{
	size_t i;

	for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (!strcmp(shortname, class_names[i].name))
			return class_names[i].cls;
	return PC_DROP_CLASS_OTHER;
}

static int cmp_value(const void *a, const void *b)
{
	const struct pc_dropreason *x = *(const struct pc_dropreason *const *)a;
	const struct pc_dropreason *y = *(const struct pc_dropreason *const *)b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	/* Same value twice (an alias): keep the kernel's order so the first name wins. */
	return x < y ? -1 : (x > y);
}

/* Enumerator i of an ENUM or ENUM64 type: name and value. */
static void enumerator(const struct btf *btf, const struct btf_type *t, int i, const char **name,
		       uint64_t *value)
{
	if (btf_is_enum64(t)) {
		const struct btf_enum64 *e = btf_enum64(t) + i;

		*name = btf__name_by_offset(btf, e->name_off);
		*value = btf_enum64_value(e);
	} else {
		const struct btf_enum *e = btf_enum(t) + i;

		*name = btf__name_by_offset(btf, e->name_off);
		/* The kernel declares the enum unsigned; SUBSYS_MASK is 0xffff0000. */
		*value = (uint32_t)e->val;
	}
}

int pc_dropreasons_from_btf(const struct btf *btf, struct pc_dropreasons **out)
{
	const struct btf_type *t;
	struct pc_dropreasons *dr;
	size_t names_len = 0, n = 0, i;
	const char *name;
	uint64_t value;
	char *p;
	int id, vlen, k, err;

	*out = NULL;
	if (!btf)
		return -EINVAL;
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM64);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	if (!t)
		return -ENOENT;
	vlen = btf_vlen(t);

	/* First pass: how many reasons and how much room their names need. */
	for (k = 0; k < vlen; k++) {
		enumerator(btf, t, k, &name, &value);
		if (!name || is_marker(short_name(name)) || value > UINT32_MAX)
			continue;
		names_len += strlen(short_name(name)) + 1;
		n++;
	}
	if (!n)
		return -ENOENT;

	dr = calloc(1, sizeof(*dr));
	if (!dr)
		return -ENOMEM;
	dr->by_enum = calloc(n, sizeof(*dr->by_enum));
	dr->by_value = calloc(n, sizeof(*dr->by_value));
	dr->names = malloc(names_len);
	if (!dr->by_enum || !dr->by_value || !dr->names) {
		err = -ENOMEM;
		goto err_free;
	}

	p = dr->names;
	for (k = 0; k < vlen && dr->n < n; k++) {
		const char *s;
		size_t len;

		enumerator(btf, t, k, &name, &value);
		if (!name || is_marker(short_name(name)) || value > UINT32_MAX)
			continue;
		s = short_name(name);
		len = strlen(s) + 1;
		memcpy(p, s, len);
		dr->by_enum[dr->n].value = (unsigned int)value;
		dr->by_enum[dr->n].name = p;
		dr->by_enum[dr->n].cls = class_of_name(p);
		dr->n++;
		p += len;
	}
	for (i = 0; i < dr->n; i++)
		dr->by_value[i] = &dr->by_enum[i];
	qsort(dr->by_value, dr->n, sizeof(*dr->by_value), cmp_value);
	*out = dr;
	return 0;

err_free:
	pc_dropreasons_free(dr);
	return err;
}

int pc_dropreasons_load(struct pc_dropreasons **out)
{
	struct btf *btf;
	int err;

	*out = NULL;
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		err = -errno;
		return err ? err : -ENOENT;
	}
	err = pc_dropreasons_from_btf(btf, out);
	btf__free(btf);
	return err;
}

void pc_dropreasons_free(struct pc_dropreasons *dr)
{
	if (!dr)
		return;
	free(dr->by_enum);
	free(dr->by_value);
	free(dr->names);
	free(dr);
}

/* The first enumerator with this value (aliases resolve to the kernel's first name). */
static const struct pc_dropreason *find_value(const struct pc_dropreasons *dr, unsigned int value)
{
	size_t lo = 0, hi;

	if (!dr || !dr->n)
		return NULL;
	hi = dr->n;
	/* Lower bound rather than bsearch(): with aliases, bsearch may land on any of them. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dr->by_value[mid]->value < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < dr->n && dr->by_value[lo]->value == value)
		return dr->by_value[lo];
	return NULL;
}

const char *pc_dropreason_name(const struct pc_dropreasons *dr, unsigned int value)
{
	const struct pc_dropreason *r = find_value(dr, value);

	return r ? r->name : NULL;
}

static long value_of_short(const struct pc_dropreasons *dr, const char *s)
{
	size_t i;

	/* Linear: names are looked up when configuring, never per packet or per interval. */
	for (i = 0; i < dr->n; i++)
		if (!strcmp(dr->by_enum[i].name, s))
			return dr->by_enum[i].value;
	return -ENOENT;
}

long pc_dropreason_value(const struct pc_dropreasons *dr, const char *name)
{
	long v;

	if (!dr || !name)
		return -ENOENT;
	/* Short names first: "SKB_CSUM" is itself a short name (SKB_DROP_REASON_SKB_CSUM). */
	v = value_of_short(dr, name);
	if (v < 0 && !strncmp(name, FULL_PREFIX, sizeof(FULL_PREFIX) - 1))
		v = value_of_short(dr, name + sizeof(FULL_PREFIX) - 1);
	/* SKB_CONSUMED, SKB_NOT_DROPPED_YET: the full names with the shorter prefix. */
	if (v < 0 && !strncmp(name, SHORT_PREFIX, sizeof(SHORT_PREFIX) - 1))
		v = value_of_short(dr, name + sizeof(SHORT_PREFIX) - 1);
	return v;
}

enum pc_drop_class pc_dropreason_class(const struct pc_dropreasons *dr, unsigned int value)
{
	const struct pc_dropreason *r = find_value(dr, value);

	return r ? r->cls : PC_DROP_CLASS_OTHER;
}

size_t pc_dropreasons_count(const struct pc_dropreasons *dr)
{
	return dr ? dr->n : 0;
}

const struct pc_dropreason *pc_dropreasons_at(const struct pc_dropreasons *dr, size_t i)
{
	if (!dr || i >= dr->n)
		return NULL;
	return &dr->by_enum[i];
}

const char *pc_drop_class_name(enum pc_drop_class cls)
{
	switch (cls) {
	case PC_DROP_CLASS_NONE:
		return "none";
	case PC_DROP_CLASS_OTHER:
		return "other";
	case PC_DROP_CLASS_NETFILTER:
		return "netfilter";
	case PC_DROP_CLASS_NO_SOCKET:
		return "no_socket";
	case PC_DROP_CLASS_LISTEN_OVERFLOW:
		return "listen_overflow";
	default:
		return "?";
	}
}
