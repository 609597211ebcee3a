// SPDX-License-Identifier: GPL-2.0
/* who.c: names the committing process: command line, uid and user, login uid, unit, parent. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "firewall/who.h"
#include "jsonutil.h"

void pc_utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	/* Back off continuation bytes (10xxxxxx) so a character is never split. */
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

void pc_who_cmdline(const char *raw, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (!outlen)
		return;
	while (len && raw[len - 1] == '\0')
		len--;
	for (i = 0; i < len && o + 1 < outlen; i++) {
		unsigned char c = raw[i];

		if (c == '\0')
			c = ' ';
		else if (c < 0x20 || c == 0x7f)
			c = '?';
		out[o++] = c;
	}
	/* Cut by the bound in the middle of a character: drop the partial one (out and raw
	 * are aligned byte for byte). */
	while (i < len && o > 0 && ((unsigned char)raw[i] & 0xc0) == 0x80) {
		o--;
		i--;
	}
	out[o] = '\0';
}

/* The value of "Key:" at the start of a line of text, or NULL. */
static const char *field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen))
			return p + klen;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

int pc_who_status(const char *text, long long *uid, uint32_t *ppid)
{
	const char *u = field(text, "Uid:"), *pp = field(text, "PPid:");
	char *end;

	*uid = -1;
	*ppid = 0;
	if (u) {
		long long v = strtoll(u, &end, 10);

		if (end != u && v >= 0)
			*uid = v;
	}
	if (pp) {
		unsigned long v = strtoul(pp, &end, 10);

		if (end != pp)
			*ppid = v;
	}
	return u || pp ? 0 : -ENOENT;
}

static void copy_span(char *dst, size_t len, const char *s, size_t n)
{
	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !memcmp(s, prefix, k);
}

/* "docker-<id>.scope", "libpod-<id>.scope", "cri-containerd-<id>.scope", "crio-<id>.scope",
 * ".../docker/<id>" (cgroupfs driver), "lxc.payload.NAME", "systemd-nspawn@NAME.service". */
static bool container_of(const char *c, size_t n, const char *prev, size_t pn, char *out,
			 size_t len)
{
	static const struct {
		const char *prefix, *engine;
	} scopes[] = {
		{"docker-", "docker"},
		{"libpod-", "podman"},
		{"cri-containerd-", "containerd"},
		{"crio-", "cri-o"},
	};
	size_t i;

	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t k = strlen(scopes[i].prefix);

		if (starts_with(c, n, scopes[i].prefix) && ends_with(c, n, ".scope") && n > k + 6) {
			size_t idl = n - k - 6;

			snprintf(out, len, "%s:%.*s", scopes[i].engine, (int)(idl > 12 ? 12 : idl),
				 c + k);
			return true;
		}
	}
	if (prev && (pn == 6 && !memcmp(prev, "docker", 6)) && n >= 12) {
		snprintf(out, len, "docker:%.12s", c);
		return true;
	}
	if (starts_with(c, n, "lxc.payload.")) {
		snprintf(out, len, "lxc:%.*s", (int)(n - 12), c + 12);
		return true;
	}
	if (starts_with(c, n, "systemd-nspawn@") && ends_with(c, n, ".service")) {
		snprintf(out, len, "nspawn:%.*s", (int)(n - 15 - 8), c + 15);
		return true;
	}
	return false;
}

/* One cgroup path: the first unit that is not a slice, and a container. */
static void parse_path(const char *path, size_t plen, char *unit, size_t ulen, char *container,
		       size_t clen)
{
	const char *p = path, *end = path + plen, *prev = NULL;
	size_t prevn = 0;

	while (p < end) {
		const char *c = p, *slash;
		size_t n;

		slash = memchr(c, '/', end - c);
		n = slash ? (size_t)(slash - c) : (size_t)(end - c);
		p = slash ? slash + 1 : end;
		if (!n)
			continue;
		if (!unit[0] && !ends_with(c, n, ".slice") &&
		    (ends_with(c, n, ".service") || ends_with(c, n, ".scope")))
			copy_span(unit, ulen, c, n);
		if (!container[0])
			container_of(c, n, prev, prevn, container, clen);
		prev = c;
		prevn = n;
	}
}

void pc_who_cgroup(const char *text, char *unit, size_t ulen, char *container, size_t clen)
{
	const char *v2 = NULL, *v1 = NULL, *p = text;
	size_t v2n = 0, v1n = 0;

	if (ulen)
		unit[0] = '\0';
	if (clen)
		container[0] = '\0';
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (starts_with(p, n, "0::")) {
			v2 = p + 3;
			v2n = n - 3;
		} else {
			const char *c = memchr(p, ':', n);

			if (c && starts_with(c + 1, n - (c + 1 - p), "name=systemd:")) {
				v1 = c + 1 + 13;
				v1n = n - (v1 - p);
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	/* A hybrid host puts systemd's tree in v1 and leaves the v2 path at "/". */
	if (v2 && v2n > 1)
		parse_path(v2, v2n, unit, ulen, container, clen);
	else if (v1)
		parse_path(v1, v1n, unit, ulen, container, clen);
}

int pc_passwd_name(const char *passwd, long long uid, char *name, size_t len)
{
	const char *p = passwd;

	while (p && *p) {
		const char *nl = strchr(p, '\n'), *c1, *c2;
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		/* name:password:uid:... */
		c1 = memchr(p, ':', n);
		c2 = c1 ? memchr(c1 + 1, ':', n - (c1 + 1 - p)) : NULL;
		if (c1 && c2 && c1 > p) {
			char *end;
			long long v = strtoll(c2 + 1, &end, 10);

			if (end != c2 + 1 && *end == ':' && v == uid) {
				copy_span(name, len, p, c1 - p);
				return 0;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

/* Up to cap - 1 bytes of a (proc) file, NUL-terminated; the length, or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

static void proc_path(char *buf, size_t len, const char *root, uint32_t pid, const char *file)
{
	snprintf(buf, len, "%s/%u/%s", root, pid, file);
}

static void user_name(const char *passwd, long long uid, char *name, size_t len)
{
	if (uid < 0 || !passwd || pc_passwd_name(passwd, uid, name, len))
		name[0] = '\0';
}

void pc_who_read(struct pc_fw_who *w, uint32_t pid, const char *comm, const char *root,
		 const char *passwd_path)
{
	static char buf[65536];
	char path[300], *passwd = NULL;
	ssize_t n;

	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->uid = w->login_uid = -1;
	snprintf(w->comm, sizeof(w->comm), "%s", comm ? comm : "");
	if (!pid)
		return;
	/* The pid may have been reused already: the kernel's comm must match. */
	proc_path(path, sizeof(path), root, pid, "comm");
	n = read_small(path, buf, sizeof(buf));
	if (n <= 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	if (comm && *comm && strncmp(buf, comm, 15))
		return;
	if (!w->comm[0]) {
		buf[sizeof(w->comm) - 1] = '\0';
		memcpy(w->comm, buf, strlen(buf) + 1);
	}
	proc_path(path, sizeof(path), root, pid, "cmdline");
	n = read_small(path, buf, sizeof(buf));
	if (n > 0)
		pc_who_cmdline(buf, n, w->command, sizeof(w->command));
	proc_path(path, sizeof(path), root, pid, "status");
	if (read_small(path, buf, sizeof(buf)) > 0)
		pc_who_status(buf, &w->uid, &w->ppid);
	proc_path(path, sizeof(path), root, pid, "loginuid");
	if (read_small(path, buf, sizeof(buf)) > 0) {
		char *end;
		long long v = strtoll(buf, &end, 10);

		/* (uid_t)-1 is "never logged in" (daemons, boot). */
		if (end != buf && v >= 0 && v != 4294967295LL)
			w->login_uid = v;
	}
	proc_path(path, sizeof(path), root, pid, "cgroup");
	if (read_small(path, buf, sizeof(buf)) > 0)
		pc_who_cgroup(buf, w->unit, sizeof(w->unit), w->container, sizeof(w->container));
	/* Named when its command line was read: an exiting process (a zombie) still has
	 * its status, uid and parent, but its command line is already empty. */
	w->read = w->command[0] != '\0';
	if (w->ppid) {
		proc_path(path, sizeof(path), root, w->ppid, "cmdline");
		n = read_small(path, buf, sizeof(buf));
		if (n > 0)
			pc_who_cmdline(buf, n, w->parent_command, sizeof(w->parent_command));
	}
	if (passwd_path) {
		passwd = malloc(1 << 20);
		if (passwd && read_small(passwd_path, passwd, 1 << 20) < 0)
			passwd[0] = '\0';
	}
	user_name(passwd, w->uid, w->user, sizeof(w->user));
	user_name(passwd, w->login_uid, w->login_user, sizeof(w->login_user));
	free(passwd);
}

static struct json_object *id_or_null(long long v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

struct json_object *pc_who_json(const struct pc_fw_who *w)
{
	struct json_object *o = json_object_new_object(), *parent = NULL;

	json_object_object_add(o, "pid", w->pid ? json_object_new_int64(w->pid) : NULL);
	json_object_object_add(o, "command", pc_json_str_or_null(w->command));
	json_object_object_add(o, "uid", id_or_null(w->uid));
	json_object_object_add(o, "user", pc_json_str_or_null(w->user));
	json_object_object_add(o, "unit", pc_json_str_or_null(w->unit));
	json_object_object_add(o, "comm", pc_json_str_or_null(w->comm));
	json_object_object_add(o, "login_uid", id_or_null(w->login_uid));
	json_object_object_add(o, "login_user", pc_json_str_or_null(w->login_user));
	json_object_object_add(o, "container", pc_json_str_or_null(w->container));
	if (w->ppid) {
		parent = json_object_new_object();
		json_object_object_add(parent, "pid", json_object_new_int64(w->ppid));
		json_object_object_add(parent, "command", pc_json_str_or_null(w->parent_command));
	}
	json_object_object_add(o, "parent", parent);
	/* Said plainly: the rest of "by" is unknown because the process was gone. */
	json_object_object_add(o, "process_gone", json_object_new_boolean(w->pid && !w->read));
	return o;
}

void pc_who_line(const struct pc_fw_who *w, char *buf, size_t len)
{
	size_t n;

	if (!w->pid && !w->comm[0]) {
		snprintf(buf, len, "an unknown process");
		return;
	}
	n = snprintf(buf, len, "%s (pid %u", w->command[0] ? w->command : w->comm, w->pid);
	if (w->user[0] && n < len)
		n += snprintf(buf + n, len - n, ", user %s", w->user);
	if (w->uid >= 0 && n < len)
		n += snprintf(buf + n, len - n, " uid %lld", w->uid);
	if (w->login_uid >= 0 && w->login_uid != w->uid && n < len)
		n += snprintf(buf + n, len - n, ", login %s uid %lld",
			      w->login_user[0] ? w->login_user : "?", w->login_uid);
	if (w->unit[0] && n < len)
		n += snprintf(buf + n, len - n, ", unit %s", w->unit);
	if (w->container[0] && n < len)
		n += snprintf(buf + n, len - n, ", container %s", w->container);
	if (w->ppid && n < len)
		n += snprintf(buf + n, len - n, ", parent %u %s", w->ppid,
			      w->parent_command[0] ? w->parent_command : "?");
	if (w->pid && !w->read && n < len)
		n += snprintf(buf + n, len - n, ", exited before it could be read");
	if (n < len)
		snprintf(buf + n, len - n, ")");
}
