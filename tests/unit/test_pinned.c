// SPDX-License-Identifier: GPL-2.0
/* test_pinned.c: a pinned map's layout against this build's: BTF compared member by member. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

#include "pinned.h"

/* struct NAME { u64 a; u64 b[len]; u32 c; } with c's name and offset chosen by the caller. */
static int add_struct(struct btf *btf, const char *name, int len, const char *third, int off)
{
	int u64 = btf__add_int(btf, "unsigned long long", 8, 0);
	int u32 = btf__add_int(btf, "unsigned int", 4, 0);
	int arr = btf__add_array(btf, u32, u64, len);
	int id = btf__add_struct(btf, name, off / 8 + 8);

	assert_true(u64 > 0 && u32 > 0 && arr > 0 && id > 0);
	assert_int_equal(btf__add_field(btf, "a", u64, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "b", arr, 64, 0), 0);
	assert_int_equal(btf__add_field(btf, third, u32, off, 0), 0);
	return id;
}

static void test_same_and_different_layouts(void **state)
{
	struct btf *a = btf__new_empty(), *b = btf__new_empty();
	int base, renamed, longer, moved, field, td;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	base = add_struct(a, "pc_counters", 4, "c", 8 * 48);
	/* the same layout in another BTF, under another type name, behind a typedef */
	renamed = add_struct(b, "pc_counters_v2", 4, "c", 8 * 48);
	td = btf__add_typedef(b, "counters_t", renamed);
	assert_true(td > 0);
	assert_true(pc_btf_same_layout(a, base, b, renamed));
	assert_true(pc_btf_same_layout(a, base, b, td));
	/* one more array element, a moved member, a renamed member: all differ */
	longer = add_struct(b, "pc_counters", 5, "c", 8 * 48);
	moved = add_struct(b, "pc_counters", 4, "c", 8 * 56);
	field = add_struct(b, "pc_counters", 4, "d", 8 * 48);
	assert_false(pc_btf_same_layout(a, base, b, longer));
	assert_false(pc_btf_same_layout(a, base, b, moved));
	assert_false(pc_btf_same_layout(a, base, b, field));
	/* a struct is not an int of the same size */
	assert_false(pc_btf_same_layout(a, base, b, btf__add_int(b, "big", 16, 0)));
	btf__free(a);
	btf__free(b);
}

static void test_global_data_sections(void **state)
{
	struct btf *a = btf__new_empty(), *b = btf__new_empty();
	int ta, tb, va, vb, sa, sb, s2;

	(void)state;
	/* .bss holding the port table, as the object defines it: one variable at 0 */
	ta = add_struct(a, "pc_port_table", 4, "c", 8 * 48);
	va = btf__add_var(a, "pc_port_table", BTF_VAR_GLOBAL_ALLOCATED, ta);
	sa = btf__add_datasec(a, ".bss", 56);
	assert_int_equal(btf__add_datasec_var_info(a, va, 0, 56), 0);
	tb = add_struct(b, "pc_port_table", 4, "c", 8 * 48);
	vb = btf__add_var(b, "pc_port_table", BTF_VAR_GLOBAL_ALLOCATED, tb);
	sb = btf__add_datasec(b, ".bss", 56);
	assert_int_equal(btf__add_datasec_var_info(b, vb, 0, 56), 0);
	assert_true(pc_btf_same_layout(a, sa, b, sb));
	/* an older build kept the table in a map of its own: a struct, not a section */
	assert_false(pc_btf_same_layout(a, sa, b, tb));
	/* a variable of another name at the same place is another layout */
	vb = btf__add_var(b, "pc_ports_v1", BTF_VAR_GLOBAL_ALLOCATED, tb);
	s2 = btf__add_datasec(b, ".bss", 56);
	assert_int_equal(btf__add_datasec_var_info(b, vb, 0, 56), 0);
	assert_false(pc_btf_same_layout(a, sa, b, s2));
	btf__free(a);
	btf__free(b);
}

static void test_map_shape(void **state)
{
	struct pc_map_shape want = {BPF_MAP_TYPE_PERCPU_ARRAY, 4, 192, 2048, 0}, have = want;

	(void)state;
	assert_null(pc_map_shape_mismatch(&want, &have));
	have.value_size = 96; /* the layout before issue 10 */
	assert_string_equal(pc_map_shape_mismatch(&want, &have), "value size");
	have = want;
	have.type = BPF_MAP_TYPE_ARRAY;
	assert_string_equal(pc_map_shape_mismatch(&want, &have), "map type");
	have = want;
	have.max_entries = 1024;
	assert_string_equal(pc_map_shape_mismatch(&want, &have), "number of entries");
	have = want;
	have.flags = BPF_F_MMAPABLE;
	assert_string_equal(pc_map_shape_mismatch(&want, &have), "map flags");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_and_different_layouts),
		cmocka_unit_test(test_global_data_sections),
		cmocka_unit_test(test_map_shape),
	};

	return cmocka_run_group_tests_name("pinned", tests, NULL, NULL);
}
