// SPDX-License-Identifier: GPL-2.0
/* test_config.c: the config file: every option, the command line winning, and refused lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "portcanary.h"

static const char full[] = "# portcanary.conf\n"
			   "[daemon]\n"
			   "interface = eth0\n"
			   "interface = eth1, bond0\n"
			   "interval = 0.5\n"
			   "state_dir = /var/lib/portcanary\n"
			   "events = /var/log/portcanary/events.jsonl\n"
			   "exec = /usr/local/bin/page --team net\n"
			   "listen = 127.0.0.1:9464\n"
			   "xdp_mode = generic\n"
			   "ingress_hook = xdp\n"
			   "verbose = 1\n"
			   "\n"
			   "[ports]\n"
			   "port = tcp/443\n"
			   "port = tcp/8000-8010 udp/53:out\n"
			   "\n"
			   "[detector]\n"
			   "min_syns = 6\n"
			   "down_fail_ratio = 0.9\n"
			   "collapse_fraction = 0.1\n";

static void test_full_file(void **state)
{
	struct pc_run_opts o;
	char err[256];

	(void)state;
	pc_run_opts_default(&o);
	assert_int_equal(pc_config_parse(full, "t.conf", &o, err, sizeof(err)), 0);
	assert_int_equal(o.n_ifaces, 3);
	assert_string_equal(o.ifaces[0], "eth0");
	assert_string_equal(o.ifaces[2], "bond0");
	assert_true(o.interval == 0.5);
	assert_string_equal(o.state_dir, "/var/lib/portcanary");
	assert_string_equal(o.events_path, "/var/log/portcanary/events.jsonl");
	assert_string_equal(o.exec_cmd, "/usr/local/bin/page --team net");
	assert_string_equal(o.listen_addr, "127.0.0.1:9464");
	assert_int_equal(o.xdp_mode, PC_XDP_GENERIC);
	assert_int_equal(o.ingress, PC_INGRESS_XDP);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.n_specs, 3);
	assert_int_equal(o.specs[1].first, 8000);
	assert_int_equal(o.specs[1].last, 8010);
	assert_int_equal(o.specs[2].proto, PC_PROTO_UDP);
	assert_int_equal(o.specs[2].dir, PC_DIR_OUT);
	assert_int_equal(o.det.min_syns, 6);
	assert_true(o.det.down_fail_ratio == 0.9);
	assert_true(o.det.collapse_fraction == 0.1);
	/* untouched thresholds keep their defaults */
	assert_int_equal(o.det.down_after, pc_det_cfg_default().down_after);
}

static void expect_refused(const char *text, const char *why)
{
	struct pc_run_opts o;
	char err[256];

	pc_run_opts_default(&o);
	assert_int_equal(pc_config_parse(text, "bad.conf", &o, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("'%s' refused with '%s', expected '%s'", text, err, why);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("[daemon]\nfrobnicate = 1\n",
		       "bad.conf:2: unknown key 'frobnicate' in [daemon]");
	expect_refused("[daemon]\ninterval = 0\n", "bad.conf:2: interval '0'");
	expect_refused("[daemon]\ninterval = 1s\n", "interval '1s'");
	expect_refused("[daemon]\nxdp_mode = turbo\n", "xdp_mode 'turbo'");
	expect_refused("[daemon]\ningress_hook = nf\n", "ingress_hook 'nf'");
	expect_refused("[daemon]\nstate_dir = relative\n", "absolute path");
	expect_refused("[daemon]\nverbose = 9\n", "verbose '9'");
	expect_refused("[ports]\nport = 70000\n", "bad.conf:2: bad port spec '70000'");
	expect_refused("[ports]\nport = tcp/443\nport = 0\n", "bad.conf:3: bad port spec '0'");
	expect_refused("[ports]\nports = 80\n", "unknown key 'ports' in [ports]");
	expect_refused("[nonsense]\nx = 1\n", "unknown section [nonsense]");
	expect_refused("[detector]\nmin_syns = many\n", "min_syns 'many' is not a whole number");
	expect_refused("[detector]\nlearn_time = 3\n", "unknown key 'learn_time' in [detector]");
	expect_refused("[detector]\ndegraded_fail_ratio = 0.9\ndown_fail_ratio = 0.5\n",
		       "inconsistent");
	expect_refused("[daemon]\njust some words\n", "bad.conf:2: not a 'key = value' line");
	expect_refused("[daemon]\ninterval = 0\ninterval = 1s\n", "bad.conf:2: interval '0'");
}

/* A command line that reads a config file of this text (path: a mkstemp template). */
static void cli_with_file(struct pc_run_opts *cli, char *path, const char *text)
{
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	pc_run_opts_default(cli);
	snprintf(cli->config_path, sizeof(cli->config_path), "%s", path);
	cli->config_required = true;
}

/* Resolve a file's text (plus a command line hook option, if any) and return the result. */
static int resolve_text(const char *text, int cli_hook, struct pc_run_opts *out, char *err,
			size_t errlen)
{
	char path[] = "/tmp/pc-test-config-XXXXXX";
	struct pc_run_opts cli;
	int r;

	cli_with_file(&cli, path, text);
	if (cli_hook >= 0) {
		cli.ingress = cli_hook;
		cli.cli_set = PC_OPT_INGRESS;
	}
	r = pc_config_resolve(&cli, out, err, errlen);
	unlink(path);
	return r;
}

static void test_hook_options(void **state)
{
	static struct pc_run_opts o;
	char err[256];

	(void)state;
	pc_run_opts_default(&o);
	assert_int_equal(o.ingress, PC_INGRESS_AUTO); /* the default chooses per interface */
	assert_int_equal(o.xdp_mode, PC_XDP_AUTO);
	assert_int_equal(resolve_text("[daemon]\ningress_hook = auto\n", -1, &o, err, sizeof(err)),
			 0);
	assert_int_equal(o.ingress, PC_INGRESS_AUTO);
	assert_int_equal(resolve_text("[daemon]\nxdp_mode = native\n", -1, &o, err, sizeof(err)),
			 0);
	assert_int_equal(o.xdp_mode, PC_XDP_NATIVE);
	/* tc with an XDP mode cannot both be honoured: refused, wherever each comes from */
	assert_int_equal(resolve_text("[daemon]\ningress_hook = tc\nxdp_mode = native\n", -1, &o,
				      err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "ingress hook tc and XDP mode native contradict each other"));
	assert_int_equal(
		resolve_text("[daemon]\nxdp_mode = generic\n", PC_INGRESS_TC, &o, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "XDP mode generic"));
	assert_int_equal(resolve_text("[daemon]\nxdp_mode = generic\n", PC_INGRESS_XDP, &o, err,
				      sizeof(err)),
			 0);
	expect_refused("[daemon]\ningress_hook = nf\n", "use auto, xdp or tc");
}

static void test_cli_wins(void **state)
{
	struct pc_run_opts cli, out;
	char path[] = "/tmp/pc-test-config-XXXXXX", err[256];

	(void)state;
	cli_with_file(&cli, path, full);
	assert_int_equal(pc_opt_port("tcp/22", &cli, err, sizeof(err)), 0);
	cli.interval = 2;
	cli.cli_set = PC_OPT_PORTS | PC_OPT_INTERVAL;
	assert_int_equal(pc_config_resolve(&cli, &out, err, sizeof(err)), 0);
	assert_int_equal(out.n_specs, 1); /* -p replaces the file's list */
	assert_int_equal(out.specs[0].first, 22);
	assert_true(out.interval == 2);	   /* --interval wins */
	assert_int_equal(out.n_ifaces, 3); /* the rest from the file */
	assert_int_equal(out.det.min_syns, 6);
	assert_ptr_equal(out.cli, &cli);
	unlink(path);

	/* -c with a missing file is an error; the default path may be missing */
	assert_int_equal(pc_config_resolve(&cli, &out, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	cli.config_required = false;
	assert_int_equal(pc_config_resolve(&cli, &out, err, sizeof(err)), 0);
	assert_int_equal(out.n_ifaces, 0);
	assert_true(out.interval == 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cli_wins),
		cmocka_unit_test(test_hook_options),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
