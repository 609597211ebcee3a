// SPDX-License-Identifier: GPL-2.0
/* test_dropreason.c: drop-reason names come from BTF: they follow names, never numbers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/btf.h>
#include <linux/btf.h>

#include "dropreason.h"

struct enumerator {
	const char *name;
	long long value;
};

/* A BTF with one enum skb_drop_reason (plus an unrelated type first, so the enum's
 * type id is not 1 either). */
static struct btf *make_btf(const char *enum_name, const struct enumerator *e, size_t n)
{
	struct btf *btf = btf__new_empty();
	size_t i;

	assert_non_null(btf);
	assert_true(btf__add_int(btf, "int", 4, BTF_INT_SIGNED) > 0);
	assert_true(btf__add_enum(btf, enum_name, 4) > 0);
	for (i = 0; i < n; i++)
		assert_int_equal(btf__add_enum_value(btf, e[i].name, e[i].value), 0);
	return btf;
}

static struct pc_dropreasons *load_from(const struct enumerator *e, size_t n)
{
	struct pc_dropreasons *dr = NULL;
	struct btf *btf = make_btf("skb_drop_reason", e, n);

	assert_int_equal(pc_dropreasons_from_btf(btf, &dr), 0);
	/* The table must not point into the BTF: free it before any lookup. */
	btf__free(btf);
	assert_non_null(dr);
	return dr;
}

/* The layout of a 6.x kernel, abridged. */
static const struct enumerator kernel_a[] = {
	{"SKB_NOT_DROPPED_YET", 0},
	{"SKB_CONSUMED", 1},
	{"SKB_DROP_REASON_NOT_SPECIFIED", 2},
	{"SKB_DROP_REASON_NO_SOCKET", 3},
	{"SKB_DROP_REASON_NETFILTER_DROP", 12},
	{"SKB_DROP_REASON_TCP_LISTEN_OVERFLOW", 40},
	{"SKB_DROP_REASON_SKB_CSUM", 75},
	{"SKB_DROP_REASON_MAX", 76},
	{"SKB_DROP_REASON_SUBSYS_MASK", 0xffff0000LL},
};

/* The same names, numbered differently (as another kernel would). */
static const struct enumerator kernel_b[] = {
	{"SKB_DROP_REASON_TCP_LISTEN_OVERFLOW", 3},
	{"SKB_DROP_REASON_NETFILTER_DROP", 40},
	{"SKB_NOT_DROPPED_YET", 0},
	{"SKB_DROP_REASON_NO_SOCKET", 12},
	{"SKB_DROP_REASON_NOT_SPECIFIED", 7},
	{"SKB_CONSUMED", 1},
	{"SKB_DROP_REASON_MAX", 41},
};

static void test_short_names_and_markers(void **state)
{
	struct pc_dropreasons *dr = load_from(kernel_a, 9);
	(void)state;

	/* MAX and SUBSYS_MASK are not reasons. */
	assert_int_equal(pc_dropreasons_count(dr), 7);
	assert_string_equal(pc_dropreason_name(dr, 0), "NOT_DROPPED_YET");
	assert_string_equal(pc_dropreason_name(dr, 1), "CONSUMED");
	assert_string_equal(pc_dropreason_name(dr, 2), "NOT_SPECIFIED");
	assert_string_equal(pc_dropreason_name(dr, 3), "NO_SOCKET");
	assert_string_equal(pc_dropreason_name(dr, 12), "NETFILTER_DROP");
	assert_string_equal(pc_dropreason_name(dr, 40), "TCP_LISTEN_OVERFLOW");
	assert_null(pc_dropreason_name(dr, 41));
	assert_null(pc_dropreason_name(dr, 76));
	/* A reason whose own name starts with SKB_ keeps it. */
	assert_string_equal(pc_dropreason_name(dr, 75), "SKB_CSUM");
	assert_null(pc_dropreason_name(dr, 0xffff0000u));
	assert_null(pc_dropreason_name(dr, 4));
	assert_int_equal(pc_dropreason_value(dr, "MAX"), -ENOENT);
	assert_int_equal(pc_dropreason_value(dr, "SUBSYS_MASK"), -ENOENT);
	pc_dropreasons_free(dr);
}

static void test_names_follow_names_not_numbers(void **state)
{
	struct pc_dropreasons *a = load_from(kernel_a, 9);
	struct pc_dropreasons *b = load_from(kernel_b, 7);
	(void)state;

	assert_int_equal(pc_dropreason_value(a, "NETFILTER_DROP"), 12);
	assert_int_equal(pc_dropreason_value(b, "NETFILTER_DROP"), 40);
	assert_int_equal(pc_dropreason_value(a, "NO_SOCKET"), 3);
	assert_int_equal(pc_dropreason_value(b, "NO_SOCKET"), 12);
	assert_int_equal(pc_dropreason_value(a, "TCP_LISTEN_OVERFLOW"), 40);
	assert_int_equal(pc_dropreason_value(b, "TCP_LISTEN_OVERFLOW"), 3);

	/* The same number means different things on the two kernels. */
	assert_string_equal(pc_dropreason_name(a, 12), "NETFILTER_DROP");
	assert_string_equal(pc_dropreason_name(b, 12), "NO_SOCKET");
	assert_string_equal(pc_dropreason_name(a, 40), "TCP_LISTEN_OVERFLOW");
	assert_string_equal(pc_dropreason_name(b, 40), "NETFILTER_DROP");
	assert_int_equal(pc_dropreason_class(a, 12), PC_DROP_CLASS_NETFILTER);
	assert_int_equal(pc_dropreason_class(b, 12), PC_DROP_CLASS_NO_SOCKET);
	assert_int_equal(pc_dropreason_class(a, 40), PC_DROP_CLASS_LISTEN_OVERFLOW);
	assert_int_equal(pc_dropreason_class(b, 40), PC_DROP_CLASS_NETFILTER);
	assert_int_equal(pc_dropreason_class(a, 3), PC_DROP_CLASS_NO_SOCKET);
	assert_int_equal(pc_dropreason_class(b, 3), PC_DROP_CLASS_LISTEN_OVERFLOW);

	/* Walking follows the kernel's enum order, not the numbers. */
	assert_string_equal(pc_dropreasons_at(b, 0)->name, "TCP_LISTEN_OVERFLOW");
	assert_int_equal(pc_dropreasons_at(b, 0)->value, 3);
	assert_string_equal(pc_dropreasons_at(b, 5)->name, "CONSUMED");
	assert_null(pc_dropreasons_at(b, 6));
	pc_dropreasons_free(a);
	pc_dropreasons_free(b);
}

static void test_classes(void **state)
{
	struct pc_dropreasons *dr = load_from(kernel_b, 7);
	(void)state;

	assert_int_equal(pc_dropreason_class(dr, 0), PC_DROP_CLASS_NONE);
	assert_int_equal(pc_dropreason_class(dr, 1), PC_DROP_CLASS_NONE);
	assert_int_equal(pc_dropreason_class(dr, 7), PC_DROP_CLASS_OTHER);
	/* A value the kernel's BTF does not name (a subsystem's reason) is still a drop. */
	assert_int_equal(pc_dropreason_class(dr, 0x10002), PC_DROP_CLASS_OTHER);
	assert_int_equal(pc_dropreason_class(dr, 41), PC_DROP_CLASS_OTHER);
	assert_string_equal(pc_drop_class_name(PC_DROP_CLASS_NONE), "none");
	assert_string_equal(pc_drop_class_name(PC_DROP_CLASS_OTHER), "other");
	assert_string_equal(pc_drop_class_name(PC_DROP_CLASS_NETFILTER), "netfilter");
	assert_string_equal(pc_drop_class_name(PC_DROP_CLASS_NO_SOCKET), "no_socket");
	assert_string_equal(pc_drop_class_name(PC_DROP_CLASS_LISTEN_OVERFLOW), "listen_overflow");
	pc_dropreasons_free(dr);
}

static void test_value_lookup_forms(void **state)
{
	struct pc_dropreasons *dr = load_from(kernel_a, 9);
	(void)state;

	assert_int_equal(pc_dropreason_value(dr, "SKB_DROP_REASON_NETFILTER_DROP"), 12);
	assert_int_equal(pc_dropreason_value(dr, "SKB_CONSUMED"), 1);
	assert_int_equal(pc_dropreason_value(dr, "CONSUMED"), 1);
	assert_int_equal(pc_dropreason_value(dr, "NOT_DROPPED_YET"), 0);
	assert_int_equal(pc_dropreason_value(dr, "SKB_CSUM"), 75);
	assert_int_equal(pc_dropreason_value(dr, "SKB_DROP_REASON_SKB_CSUM"), 75);
	assert_int_equal(pc_dropreason_value(dr, "CSUM"), -ENOENT);
	/* Exact names: no case folding, no prefixes matching. */
	assert_int_equal(pc_dropreason_value(dr, "netfilter_drop"), -ENOENT);
	assert_int_equal(pc_dropreason_value(dr, "NETFILTER"), -ENOENT);
	assert_int_equal(pc_dropreason_value(dr, ""), -ENOENT);
	assert_int_equal(pc_dropreason_value(dr, NULL), -ENOENT);
	assert_int_equal(pc_dropreason_value(NULL, "NO_SOCKET"), -ENOENT);
	assert_null(pc_dropreason_name(NULL, 3));
	assert_int_equal(pc_dropreasons_count(NULL), 0);
	pc_dropreasons_free(dr);
}

static void test_alias_first_name_wins(void **state)
{
	static const struct enumerator e[] = {
		{"SKB_DROP_REASON_NO_SOCKET", 5},
		{"SKB_DROP_REASON_NO_SOCKET_ALIAS", 5},
		{"SKB_DROP_REASON_NETFILTER_DROP", 4},
		{"SKB_DROP_REASON_AFTER", 6},
	};
	struct pc_dropreasons *dr = load_from(e, 4);
	(void)state;

	assert_string_equal(pc_dropreason_name(dr, 5), "NO_SOCKET");
	assert_int_equal(pc_dropreason_value(dr, "NO_SOCKET_ALIAS"), 5);
	assert_string_equal(pc_dropreason_name(dr, 4), "NETFILTER_DROP");
	assert_string_equal(pc_dropreason_name(dr, 6), "AFTER");
	pc_dropreasons_free(dr);
}

static void test_enum64(void **state)
{
	struct pc_dropreasons *dr = NULL;
	struct btf *btf = btf__new_empty();
	(void)state;

	assert_non_null(btf);
	assert_true(btf__add_enum64(btf, "skb_drop_reason", 8, false) > 0);
	assert_int_equal(btf__add_enum64_value(btf, "SKB_DROP_REASON_NETFILTER_DROP", 9), 0);
	assert_int_equal(btf__add_enum64_value(btf, "SKB_DROP_REASON_NO_SOCKET", 2), 0);
	/* Does not fit the unsigned int the datapath keys drops by: left out. */
	assert_int_equal(btf__add_enum64_value(btf, "SKB_DROP_REASON_HUGE", 1ULL << 40), 0);
	assert_int_equal(pc_dropreasons_from_btf(btf, &dr), 0);
	btf__free(btf);
	assert_int_equal(pc_dropreasons_count(dr), 2);
	assert_int_equal(pc_dropreason_value(dr, "NETFILTER_DROP"), 9);
	assert_string_equal(pc_dropreason_name(dr, 2), "NO_SOCKET");
	assert_int_equal(pc_dropreason_value(dr, "HUGE"), -ENOENT);
	pc_dropreasons_free(dr);
}

static void test_missing_enum(void **state)
{
	static const struct enumerator e[] = {{"FOO", 1}};
	struct pc_dropreasons *dr = (struct pc_dropreasons *)1;
	struct btf *btf = make_btf("skb_drop_reason_subsys", e, 1);
	(void)state;

	assert_int_equal(pc_dropreasons_from_btf(btf, &dr), -ENOENT);
	assert_null(dr);
	btf__free(btf);
	assert_int_equal(pc_dropreasons_from_btf(NULL, &dr), -EINVAL);
	assert_null(dr);
}

/* The running kernel: every name round-trips, and the reasons the detector needs exist. */
static void test_live_kernel(void **state)
{
	struct pc_dropreasons *dr = NULL;
	size_t i, n;
	int err;
	(void)state;

	err = pc_dropreasons_load(&dr);
	if (err)
		fail_msg("cannot read enum skb_drop_reason from /sys/kernel/btf/vmlinux: %s "
			 "(a kernel with CONFIG_DEBUG_INFO_BTF is required)",
			 strerror(-err));
	n = pc_dropreasons_count(dr);
	/* 5.17 had a few dozen reasons; 6.x has over a hundred. */
	assert_true(n > 20);
	for (i = 0; i < n; i++) {
		const struct pc_dropreason *r = pc_dropreasons_at(dr, i);
		long v = pc_dropreason_value(dr, r->name);

		assert_non_null(r);
		assert_int_not_equal(strncmp(r->name, "SKB_DROP_REASON_", 16), 0);
		assert_int_equal(v, r->value);
		/* An alias may resolve to its first spelling; that spelling has the same value. */
		assert_int_equal(pc_dropreason_value(dr, pc_dropreason_name(dr, r->value)),
				 r->value);
	}
	assert_true(pc_dropreason_value(dr, "NETFILTER_DROP") >= 0);
	assert_true(pc_dropreason_value(dr, "NO_SOCKET") >= 0);
	assert_int_equal(pc_dropreason_value(dr, "NOT_DROPPED_YET"), 0);
	assert_int_equal(pc_dropreason_value(dr, "MAX"), -ENOENT);
	assert_int_equal(pc_dropreason_class(dr, pc_dropreason_value(dr, "NETFILTER_DROP")),
			 PC_DROP_CLASS_NETFILTER);
	assert_int_equal(pc_dropreason_class(dr, pc_dropreason_value(dr, "NO_SOCKET")),
			 PC_DROP_CLASS_NO_SOCKET);
	assert_int_equal(pc_dropreason_class(dr, pc_dropreason_value(dr, "CONSUMED")),
			 PC_DROP_CLASS_NONE);
	print_message("live kernel: %zu drop reasons, NETFILTER_DROP=%ld NO_SOCKET=%ld "
		      "TCP_LISTEN_OVERFLOW=%ld\n",
		      n, pc_dropreason_value(dr, "NETFILTER_DROP"),
		      pc_dropreason_value(dr, "NO_SOCKET"),
		      pc_dropreason_value(dr, "TCP_LISTEN_OVERFLOW"));
	pc_dropreasons_free(dr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_names_and_markers),
		cmocka_unit_test(test_names_follow_names_not_numbers),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_value_lookup_forms),
		cmocka_unit_test(test_alias_first_name_wins),
		cmocka_unit_test(test_enum64),
		cmocka_unit_test(test_missing_enum),
		cmocka_unit_test(test_live_kernel),
	};

	return cmocka_run_group_tests_name("dropreason", tests, NULL, NULL);
}
