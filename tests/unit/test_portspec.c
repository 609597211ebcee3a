// SPDX-License-Identifier: GPL-2.0
/* test_portspec.c: SPEC parsing and strict number parsing, as the command-line contract states them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "portcanary.h"
#include "portspec.h"

static void expect_spec(const char *s, int proto, int dir, int first, int last)
{
	struct pc_portspec p;
	char err[160] = "";

	if (pc_portspec_parse(s, &p, err, sizeof(err)))
		fail_msg("'%s' rejected: %s", s, err);
	assert_int_equal(p.proto, proto);
	assert_int_equal(p.dir, dir);
	assert_int_equal(p.first, first);
	assert_int_equal(p.last, last);
}

static void expect_bad(const char *s, const char *why)
{
	struct pc_portspec p = {.first = 7};
	char err[160] = "";

	assert_int_equal(pc_portspec_parse(s, &p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("'%s': error '%s' does not say '%s'", s, err, why);
	assert_int_equal(p.first, 7); /* untouched on error */
}

static void test_valid_specs(void **state)
{
	(void)state;
	expect_spec("8443", PC_PROTO_TCP, PC_DIR_IN, 8443, 8443);
	expect_spec("tcp/443", PC_PROTO_TCP, PC_DIR_IN, 443, 443);
	expect_spec("udp/53", PC_PROTO_UDP, PC_DIR_IN, 53, 53);
	expect_spec("tcp/9000:out", PC_PROTO_TCP, PC_DIR_OUT, 9000, 9000);
	expect_spec("tcp/8000-8010", PC_PROTO_TCP, PC_DIR_IN, 8000, 8010);
	expect_spec("udp/5000-5001:out", PC_PROTO_UDP, PC_DIR_OUT, 5000, 5001);
	expect_spec("1", PC_PROTO_TCP, PC_DIR_IN, 1, 1);
	expect_spec("65535:in", PC_PROTO_TCP, PC_DIR_IN, 65535, 65535);
	expect_spec("1-65535", PC_PROTO_TCP, PC_DIR_IN, 1, 65535);
	expect_spec("80-80", PC_PROTO_TCP, PC_DIR_IN, 80, 80);
}

static void test_invalid_specs(void **state)
{
	(void)state;
	expect_bad("", "empty");
	expect_bad("0", "port 0 is out of range");
	expect_bad("70000", "port 70000 is out of range");
	expect_bad("65536", "out of range");
	expect_bad("tcp/", "port is missing");
	expect_bad("tcp/http", "not a number");
	expect_bad("80x", "not a number");
	expect_bad("-80", "first port is missing");
	expect_bad("+80", "not a number");
	expect_bad(" 80", "not a number");
	expect_bad("80-", "last port is missing");
	expect_bad("9000-8000", "reversed");
	expect_bad("0-10", "first port 0 is out of range");
	expect_bad("10-70000", "last port 70000 is out of range");
	expect_bad("sctp/80", "unknown protocol");
	expect_bad("TCP/80", "unknown protocol");
	expect_bad("80:sideways", "unknown direction");
	expect_bad("80:", "unknown direction");
	expect_bad("80:in:out", "unknown direction");
	expect_bad("tcp/80/udp", "not a number");
	expect_bad("99999999999999999999", "too long");
	expect_bad("8-0-9", "not a number");
}

static void test_format_roundtrip(void **state)
{
	const char *in[] = {"tcp/443:in", "udp/53:out", "tcp/8000-8010:in"};
	struct pc_portspec p;
	char err[80], buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(pc_portspec_parse(in[i], &p, err, sizeof(err)), 0);
		pc_portspec_format(&p, buf, sizeof(buf));
		assert_string_equal(buf, in[i]);
	}
}

static void test_strict_numbers(void **state)
{
	uint64_t v = 0;
	double d = 0;

	(void)state;
	assert_int_equal(pc_parse_u64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(pc_parse_u64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(pc_parse_u64("4 2", 0, 100, &v), -EINVAL);
	assert_int_equal(pc_parse_u64("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(pc_parse_u64("", 0, 100, &v), -EINVAL);
	assert_int_equal(pc_parse_u64("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(pc_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(v, 42);
	assert_int_equal(pc_parse_double("0.5", 0.1, 60, &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(pc_parse_double("0.05", 0.1, 60, &d), -ERANGE);
	assert_int_equal(pc_parse_double("1s", 0.1, 60, &d), -EINVAL);
	assert_int_equal(pc_parse_double("nan", 0.1, 60, &d), -EINVAL);
	assert_int_equal(pc_parse_double("inf", 0.1, 60, &d), -EINVAL);
	assert_int_equal(pc_parse_double("-1", -5, 60, &d), -EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pc_proto_name(PC_PROTO_TCP), "tcp");
	assert_string_equal(pc_proto_name(PC_PROTO_UDP), "udp");
	assert_string_equal(pc_dir_name(PC_DIR_IN), "in");
	assert_string_equal(pc_dir_name(PC_DIR_OUT), "out");
	assert_int_equal(pc_proto_from_name("udp"), PC_PROTO_UDP);
	assert_int_equal(pc_dir_from_name("out"), PC_DIR_OUT);
	assert_int_equal(pc_proto_from_name("icmp"), -EINVAL);
	assert_int_equal(pc_dir_from_name("both"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_specs),
		cmocka_unit_test(test_invalid_specs),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_strict_numbers),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("portspec", tests, NULL, NULL);
}
