// SPDX-License-Identifier: GPL-2.0
/* test_hookchoice.c: the per-interface ingress hook rule: every case, explicit options, adoption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <xdp/libxdp.h>

#include "hookchoice.h"

static struct pc_link_facts nic(const char *driver)
{
	struct pc_link_facts f = {};

	snprintf(f.driver, sizeof(f.driver), "%s", driver);
	return f;
}

static struct pc_link_facts soft(const char *kind, const char *driver)
{
	struct pc_link_facts f = nic(driver);

	snprintf(f.kind, sizeof(f.kind), "%s", kind);
	return f;
}

static void expect_tc(struct pc_link_facts f, enum pc_hook_reason why, const char *code)
{
	struct pc_hook_choice c = pc_hook_choose(PC_INGRESS_AUTO, PC_XDP_AUTO, &f);

	assert_int_equal(c.hook, PC_INGRESS_TC);
	assert_int_equal(c.n_modes, 0);
	assert_int_equal(c.why, why);
	assert_string_equal(pc_hook_reason_code(c.why), code);
}

static void test_auto_picks_tc_where_xdp_costs(void **state)
{
	struct pc_link_facts f;

	(void)state;
	expect_tc(soft("veth", "veth"), PC_WHY_VETH, "veth");
	expect_tc(nic("veth"), PC_WHY_VETH, "veth"); /* driver alone is enough */
	expect_tc(soft("bridge", "bridge"), PC_WHY_VIRTUAL, "software_device");
	expect_tc(soft("bond", "bonding"), PC_WHY_VIRTUAL, "software_device");
	expect_tc(soft("vxlan", "vxlan"), PC_WHY_VIRTUAL, "software_device");
	expect_tc(soft("geneve", "geneve"), PC_WHY_VIRTUAL, "software_device");
	expect_tc(soft("tun", "tun"), PC_WHY_VIRTUAL, "software_device");
	expect_tc(soft("macvlan", "macvlan"), PC_WHY_VIRTUAL, "software_device");
	expect_tc(soft("wireguard", ""), PC_WHY_VIRTUAL, "software_device");
	expect_tc(nic("virtio_net"), PC_WHY_VIRTIO, "virtio_net");
	expect_tc(nic(""), PC_WHY_NO_DRIVER, "no_driver_info");
	f = nic("");
	f.loopback = true;
	expect_tc(f, PC_WHY_LOOPBACK, "loopback");
	f = nic("bnxt_en");
	f.gro_hw = true;
	expect_tc(f, PC_WHY_HW_COALESCING, "hw_coalescing");
	f = nic("ixgbe");
	f.lro = true;
	expect_tc(f, PC_WHY_HW_COALESCING, "hw_coalescing");
	/* virtio-net is TC even without guest offloads on: it is the driver that decides. */
	expect_tc(nic("virtio_net"), PC_WHY_VIRTIO, "virtio_net");
	f = nic("ice");
	snprintf(f.foreign_xdp, sizeof(f.foreign_xdp), "'xdpfilt_alw_all' (id 7)");
	f.foreign_unshared = true;
	expect_tc(f, PC_WHY_FOREIGN_XDP, "foreign_xdp");
}

static void test_auto_picks_native_xdp_on_a_nic(void **state)
{
	struct pc_link_facts f = nic("mlx5_core");
	struct pc_hook_choice c;

	(void)state;
	c = pc_hook_choose(PC_INGRESS_AUTO, PC_XDP_AUTO, &f);
	assert_int_equal(c.hook, PC_INGRESS_XDP);
	assert_int_equal(c.n_modes, 1);
	assert_int_equal(c.modes[0], XDP_MODE_NATIVE); /* never generic under auto */
	assert_true(c.tc_if_refused);
	assert_int_equal(c.why, PC_WHY_NATIVE_XDP);
	assert_string_equal(pc_hook_reason_code(c.why), "native_xdp");

	/* A foreign program in libxdp's dispatcher can be joined. */
	snprintf(f.foreign_xdp, sizeof(f.foreign_xdp), "'xdp_filter' (id 9)");
	f.foreign_unshared = false;
	c = pc_hook_choose(PC_INGRESS_AUTO, PC_XDP_AUTO, &f);
	assert_int_equal(c.hook, PC_INGRESS_XDP);
	assert_int_equal(c.why, PC_WHY_NATIVE_XDP);
}

static void test_explicit_options_win(void **state)
{
	struct pc_link_facts veth = soft("veth", "veth"), ice = nic("ice");
	struct pc_hook_choice c;

	(void)state;
	c = pc_hook_choose(PC_INGRESS_TC, PC_XDP_AUTO, &ice);
	assert_int_equal(c.hook, PC_INGRESS_TC);
	assert_int_equal(c.why, PC_WHY_OPTION_TC);
	assert_string_equal(pc_hook_reason_code(c.why), "option");

	c = pc_hook_choose(PC_INGRESS_AUTO, PC_XDP_NATIVE, &veth);
	assert_int_equal(c.hook, PC_INGRESS_XDP);
	assert_int_equal(c.n_modes, 1);
	assert_int_equal(c.modes[0], XDP_MODE_NATIVE);
	assert_false(c.tc_if_refused); /* an explicit mode fails rather than fall back */
	assert_int_equal(c.why, PC_WHY_OPTION_XDP);

	c = pc_hook_choose(PC_INGRESS_AUTO, PC_XDP_GENERIC, &veth);
	assert_int_equal(c.n_modes, 1);
	assert_int_equal(c.modes[0], XDP_MODE_SKB);
	assert_false(c.tc_if_refused);

	/* --ingress-hook xdp: the behaviour of the old default, native then generic. */
	c = pc_hook_choose(PC_INGRESS_XDP, PC_XDP_AUTO, &veth);
	assert_int_equal(c.hook, PC_INGRESS_XDP);
	assert_int_equal(c.n_modes, 2);
	assert_int_equal(c.modes[0], XDP_MODE_NATIVE);
	assert_int_equal(c.modes[1], XDP_MODE_SKB);
	assert_false(c.tc_if_refused);

	c = pc_hook_choose(PC_INGRESS_XDP, PC_XDP_GENERIC, &ice);
	assert_int_equal(c.n_modes, 1);
	assert_int_equal(c.modes[0], XDP_MODE_SKB);
}

static void test_conflict(void **state)
{
	(void)state;
	assert_true(pc_hook_options_conflict(PC_INGRESS_TC, PC_XDP_NATIVE));
	assert_true(pc_hook_options_conflict(PC_INGRESS_TC, PC_XDP_GENERIC));
	assert_false(pc_hook_options_conflict(PC_INGRESS_TC, PC_XDP_AUTO));
	assert_false(pc_hook_options_conflict(PC_INGRESS_XDP, PC_XDP_GENERIC));
	assert_false(pc_hook_options_conflict(PC_INGRESS_AUTO, PC_XDP_NATIVE));
}

static void test_keep_adopted(void **state)
{
	(void)state;
	/* auto keeps whatever an earlier daemon left: no gap, no double count. */
	assert_true(pc_hook_keep_adopted(PC_INGRESS_AUTO, PC_XDP_AUTO, PC_INGRESS_XDP,
					 XDP_MODE_NATIVE));
	assert_true(pc_hook_keep_adopted(PC_INGRESS_AUTO, PC_XDP_AUTO, PC_INGRESS_TC, 0));
	/* explicit options keep only what they ask for */
	assert_true(pc_hook_keep_adopted(PC_INGRESS_TC, PC_XDP_AUTO, PC_INGRESS_TC, 0));
	assert_false(
		pc_hook_keep_adopted(PC_INGRESS_TC, PC_XDP_AUTO, PC_INGRESS_XDP, XDP_MODE_NATIVE));
	assert_true(pc_hook_keep_adopted(PC_INGRESS_AUTO, PC_XDP_NATIVE, PC_INGRESS_XDP,
					 XDP_MODE_NATIVE));
	assert_false(
		pc_hook_keep_adopted(PC_INGRESS_AUTO, PC_XDP_NATIVE, PC_INGRESS_XDP, XDP_MODE_SKB));
	assert_false(pc_hook_keep_adopted(PC_INGRESS_AUTO, PC_XDP_NATIVE, PC_INGRESS_TC, 0));
	assert_true(pc_hook_keep_adopted(PC_INGRESS_AUTO, PC_XDP_GENERIC, PC_INGRESS_XDP,
					 XDP_MODE_SKB));
	assert_false(pc_hook_keep_adopted(PC_INGRESS_AUTO, PC_XDP_GENERIC, PC_INGRESS_XDP,
					  XDP_MODE_NATIVE));
	assert_true(
		pc_hook_keep_adopted(PC_INGRESS_XDP, PC_XDP_AUTO, PC_INGRESS_XDP, XDP_MODE_SKB));
	assert_false(pc_hook_keep_adopted(PC_INGRESS_XDP, PC_XDP_AUTO, PC_INGRESS_TC, 0));
}

static void test_reason_texts(void **state)
{
	struct pc_link_facts f = nic("bnxt_en");
	char buf[256];
	int why;

	(void)state;
	f.gro_hw = true;
	snprintf(f.kind, sizeof(f.kind), "bridge");
	snprintf(f.foreign_xdp, sizeof(f.foreign_xdp), "'xdpfilt_alw_all' (id 7)");
	for (why = 0; why < PC_WHY_MAX; why++) {
		pc_hook_reason_text(why, &f, buf, sizeof(buf));
		assert_true(strlen(buf) > 10);
		assert_string_not_equal(pc_hook_reason_code(why), "unknown");
	}
	assert_string_equal(pc_hook_reason_code(PC_WHY_MAX), "unknown");
	pc_hook_reason_text(PC_WHY_HW_COALESCING, &f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "bnxt_en has rx-gro-hw on"));
	f.lro = true;
	pc_hook_reason_text(PC_WHY_HW_COALESCING, &f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "LRO and rx-gro-hw"));
	pc_hook_reason_text(PC_WHY_VIRTUAL, &f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "bridge is a software device"));
	pc_hook_reason_text(PC_WHY_FOREIGN_XDP, &f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "'xdpfilt_alw_all' (id 7)"));
	assert_string_equal(pc_ingress_hook_name(PC_INGRESS_XDP), "xdp");
	assert_string_equal(pc_ingress_hook_name(PC_INGRESS_TC), "tc");
	assert_string_equal(pc_ingress_hook_name(PC_INGRESS_AUTO), "auto");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_picks_tc_where_xdp_costs),
		cmocka_unit_test(test_auto_picks_native_xdp_on_a_nic),
		cmocka_unit_test(test_explicit_options_win),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_keep_adopted),
		cmocka_unit_test(test_reason_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
