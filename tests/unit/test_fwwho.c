// SPDX-License-Identifier: GPL-2.0
/* test_fwwho.c: the committing process: /proc texts parsed, and read from a /proc-like tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "firewall/who.h"

static void test_cmdline(void **state)
{
	static const char raw[] = "nft\0-f\0/etc/nftables.d/new file.nft\0";
	static const char ctl[] = "sh\0-c\0echo\ta\nb\0";
	static const char utf[] = "echo\0h\xc3\xa9llo\0";
	char out[64], small[8];

	(void)state;
	pc_who_cmdline(raw, sizeof(raw) - 1, out, sizeof(out));
	assert_string_equal(out, "nft -f /etc/nftables.d/new file.nft");
	pc_who_cmdline(ctl, sizeof(ctl) - 1, out, sizeof(out));
	assert_string_equal(out, "sh -c echo?a?b");
	/* "echo h" + first byte of é does not fit in 8: the partial character goes. */
	pc_who_cmdline(utf, sizeof(utf) - 1, small, sizeof(small));
	assert_string_equal(small, "echo h");
	pc_who_cmdline("", 0, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_utf8_cut(void **state)
{
	char s[] = "ab\xc3\xa9\xe2\x82\xac"; /* ab é € */

	(void)state;
	pc_utf8_cut(s, 6);
	assert_string_equal(s, "ab\xc3\xa9");
	pc_utf8_cut(s, 3);
	assert_string_equal(s, "ab");
	pc_utf8_cut(s, 10);
	assert_string_equal(s, "ab");
}

static void test_status(void **state)
{
	static const char st[] = "Name:\tnft\nUmask:\t0022\nState:\tR (running)\nTgid:\t9656\n"
				 "Ngid:\t0\nPid:\t9656\nPPid:\t9650\nTracerPid:\t0\n"
				 "Uid:\t1001\t0\t0\t0\nGid:\t1001\t1001\t1001\t1001\n";
	long long uid;
	uint32_t ppid;

	(void)state;
	assert_int_equal(pc_who_status(st, &uid, &ppid), 0);
	assert_int_equal(uid, 1001);
	assert_int_equal(ppid, 9650);
	assert_int_equal(pc_who_status("Name:\tx\n", &uid, &ppid), -ENOENT);
	assert_int_equal(uid, -1);
	assert_int_equal(ppid, 0);
}

static void cg(const char *text, const char *unit, const char *container)
{
	char u[PC_WHO_UNIT_LEN], c[PC_WHO_UNIT_LEN];

	pc_who_cgroup(text, u, sizeof(u), c, sizeof(c));
	assert_string_equal(u, unit);
	assert_string_equal(c, container);
}

static void test_cgroup(void **state)
{
	(void)state;
	cg("0::/user.slice/user-1001.slice/session-12.scope\n", "session-12.scope", "");
	cg("0::/system.slice/ansible-pull.service\n", "ansible-pull.service", "");
	cg("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n",
	   "user@1000.service", "");
	cg("0::/system.slice/docker-0123456789abcdef0123456789abcdef.scope\n",
	   "docker-0123456789abcdef0123456789abcdef.scope", "docker:0123456789ab");
	cg("0::/docker/fedcba9876543210fedcba9876543210\n", "", "docker:fedcba987654");
	cg("0::/machine.slice/libpod-aaaabbbbccccdddd.scope/container\n",
	   "libpod-aaaabbbbccccdddd.scope", "podman:aaaabbbbcccc");
	cg("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-112233445566778899.scope\n",
	   "cri-containerd-112233445566778899.scope", "containerd:112233445566");
	cg("0::/lxc.payload.web/system.slice/cron.service\n", "cron.service", "lxc:web");
	cg("0::/machine.slice/systemd-nspawn@build.service/payload\n",
	   "systemd-nspawn@build.service", "nspawn:build");
	/* Hybrid (v1 + v2 at "/"): systemd's tree is the name=systemd hierarchy. */
	cg("12:memory:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n0::/"
	   "\n",
	   "cron.service", "");
	cg("0::/\n", "", "");
	cg("", "", "");
}

static void test_passwd(void **state)
{
	static const char pw[] = "root:x:0:0:root:/root:/bin/bash\n"
				 "deploy:x:1001:1001::/home/deploy:/bin/sh\n"
				 "broken line\n"
				 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";
	char name[64];

	(void)state;
	assert_int_equal(pc_passwd_name(pw, 1001, name, sizeof(name)), 0);
	assert_string_equal(name, "deploy");
	assert_int_equal(pc_passwd_name(pw, 65534, name, sizeof(name)), 0);
	assert_string_equal(name, "nobody");
	assert_int_equal(pc_passwd_name(pw, 0, name, sizeof(name)), 0);
	assert_string_equal(name, "root");
	assert_int_equal(pc_passwd_name(pw, 100, name, sizeof(name)), -ENOENT);
	assert_int_equal(pc_passwd_name(pw, 10, name, sizeof(name)), -ENOENT);
}

static char root[64];

static void put(const char *rel, const char *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void mkd(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0700), 0);
}

/* A string literal's bytes, NULs inside included. */
#define PUT(rel, lit) put(rel, lit, sizeof(lit) - 1)

static int proc_setup(void **state)
{
	static const char cmd[] = "python3\0/tmp/commit.py\0--marker\0pc-42\0";
	static const char pcmd[] = "bash\0-e\0deploy.sh\0";

	(void)state;
	snprintf(root, sizeof(root), "/tmp/pc-test-who.XXXXXX");
	assert_non_null(mkdtemp(root));
	mkd("4242");
	mkd("4200");
	PUT("4242/comm", "python3\n");
	put("4242/cmdline", cmd, sizeof(cmd) - 1);
	PUT("4242/status", "Name:\tpython3\nPPid:\t4200\nUid:\t1001\t1001\t1001\t1001\n");
	PUT("4242/loginuid", "1000");
	PUT("4242/cgroup", "0::/user.slice/user-1000.slice/session-3.scope\n");
	put("4200/cmdline", pcmd, sizeof(pcmd) - 1);
	PUT("passwd", "alice:x:1000:1000::/:/bin/sh\ndeploy:x:1001:1001::/:/bin/sh\n");
	return 0;
}

static int proc_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static void test_read(void **state)
{
	struct pc_fw_who w;
	struct json_object *o, *v, *p;
	char passwd[128], line[512];

	(void)state;
	snprintf(passwd, sizeof(passwd), "%s/passwd", root);
	pc_who_read(&w, 4242, "python3", root, passwd);
	assert_true(w.read);
	assert_string_equal(w.command, "python3 /tmp/commit.py --marker pc-42");
	assert_int_equal(w.uid, 1001);
	assert_string_equal(w.user, "deploy");
	assert_int_equal(w.login_uid, 1000);
	assert_string_equal(w.login_user, "alice");
	assert_string_equal(w.unit, "session-3.scope");
	assert_string_equal(w.container, "");
	assert_int_equal(w.ppid, 4200);
	assert_string_equal(w.parent_command, "bash -e deploy.sh");
	pc_who_line(&w, line, sizeof(line));
	assert_string_equal(line,
			    "python3 /tmp/commit.py --marker pc-42 (pid 4242, user deploy uid "
			    "1001, login alice uid 1000, unit session-3.scope, parent 4200 "
			    "bash -e deploy.sh)");
	o = pc_who_json(&w);
	assert_true(json_object_object_get_ex(o, "uid", &v));
	assert_int_equal(json_object_get_int(v), 1001);
	assert_true(json_object_object_get_ex(o, "container", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "parent", &p));
	assert_true(json_object_object_get_ex(p, "pid", &v));
	assert_int_equal(json_object_get_int(v), 4200);
	assert_true(json_object_object_get_ex(o, "process_gone", &v));
	assert_false(json_object_get_boolean(v));
	json_object_put(o);
}

static void test_read_gone_or_reused(void **state)
{
	struct pc_fw_who w;
	struct json_object *o, *v;
	char line[256];

	(void)state;
	/* Exited: only the kernel's pid and name are known, and said to be. */
	pc_who_read(&w, 999, "nft", root, NULL);
	assert_false(w.read);
	assert_string_equal(w.comm, "nft");
	assert_int_equal(w.uid, -1);
	assert_string_equal(w.command, "");
	pc_who_line(&w, line, sizeof(line));
	assert_string_equal(line, "nft (pid 999, exited before it could be read)");
	o = pc_who_json(&w);
	assert_true(json_object_object_get_ex(o, "command", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "user", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "pid", &v));
	assert_int_equal(json_object_get_int(v), 999);
	assert_true(json_object_object_get_ex(o, "process_gone", &v));
	assert_true(json_object_get_boolean(v));
	json_object_put(o);
	/* The pid now belongs to another program: never name the wrong process. */
	pc_who_read(&w, 4242, "nft", root, NULL);
	assert_false(w.read);
	assert_string_equal(w.command, "");
	assert_int_equal(w.uid, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_passwd),
		cmocka_unit_test_setup_teardown(test_read, proc_setup, proc_teardown),
		cmocka_unit_test_setup_teardown(test_read_gone_or_reused, proc_setup,
						proc_teardown),
	};

	return cmocka_run_group_tests_name("fwwho", tests, NULL, NULL);
}
