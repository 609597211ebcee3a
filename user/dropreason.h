/* SPDX-License-Identifier: GPL-2.0 */
/* dropreason.h: names and classes of the kernel's skb_drop_reason values, read from BTF. */
#ifndef PC_DROPREASON_H
#define PC_DROPREASON_H

#include <stddef.h>

struct btf;

/* What a drop reason means to the detector (struct pc_det_input's drops_*). */
enum pc_drop_class {
	PC_DROP_CLASS_NONE = 0,	       /* not a drop: SKB_NOT_DROPPED_YET, SKB_CONSUMED */
	PC_DROP_CLASS_OTHER,	       /* any other reason, and values BTF does not name */
	PC_DROP_CLASS_NETFILTER,       /* NETFILTER_DROP: the host firewall dropped/rejected it */
	PC_DROP_CLASS_NO_SOCKET,       /* NO_SOCKET: nothing listens (inbound) / no socket */
	PC_DROP_CLASS_LISTEN_OVERFLOW, /* TCP_LISTEN_OVERFLOW: accept backlog full */
	PC_DROP_CLASS_MAX,
};

/* One enumerator of enum skb_drop_reason. */
struct pc_dropreason {
	unsigned int value;
	const char *name; /* short name: "NETFILTER_DROP", "NO_SOCKET", "CONSUMED" */
	enum pc_drop_class cls;
};

/* The table of one kernel, loaded once; immutable afterwards, so readers need no lock. */
struct pc_dropreasons;

/* Load from the running kernel's BTF (/sys/kernel/btf/vmlinux). Returns 0 or -errno
 * (-ENOENT: the kernel has no enum skb_drop_reason, i.e. older than 5.17). */
int pc_dropreasons_load(struct pc_dropreasons **out);
/* Build from any BTF holding enum skb_drop_reason (ENUM or ENUM64); the BTF may be freed
 * afterwards. Unit tests use it with a synthetic BTF. Returns 0 or -errno. */
int pc_dropreasons_from_btf(const struct btf *btf, struct pc_dropreasons **out);
void pc_dropreasons_free(struct pc_dropreasons *dr);

/* Short name of a value, or NULL when this kernel does not name it (a subsystem reason). */
const char *pc_dropreason_name(const struct pc_dropreasons *dr, unsigned int value);
/* Value of a short name ("NETFILTER_DROP") or full name ("SKB_DROP_REASON_NETFILTER_DROP");
 * -ENOENT when this kernel has no such reason. */
long pc_dropreason_value(const struct pc_dropreasons *dr, const char *name);
/* Class of a value; values BTF does not name are PC_DROP_CLASS_OTHER (still a drop). */
enum pc_drop_class pc_dropreason_class(const struct pc_dropreasons *dr, unsigned int value);

/* Every reason, in the kernel's enum order (for metrics and `status`). */
size_t pc_dropreasons_count(const struct pc_dropreasons *dr);
const struct pc_dropreason *pc_dropreasons_at(const struct pc_dropreasons *dr, size_t i);

/* "none|other|netfilter|no_socket|listen_overflow". */
const char *pc_drop_class_name(enum pc_drop_class cls);

#endif
