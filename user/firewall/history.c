// SPDX-License-Identifier: GPL-2.0
/* history.c: changes.jsonl (one record a line) and the rulesets, stored once each by content. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "firewall/changes.h"
#include "firewall/history.h"
#include "log.h"
#include "jsonutil.h"

static uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_BASIS 0xcbf29ce484222325ULL

void pc_history_ruleset_name(const char *text, char *buf, size_t len)
{
	snprintf(buf, len, "rs-%016llx.nft",
		 (unsigned long long)fnv1a(text, strlen(text), FNV_BASIS));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void pc_fw_diff_fingerprint(const struct pc_fw_diff *d, char out[17])
{
	int n = d->n_added + d->n_removed, i, k = 0;
	char **lines = calloc(n + 1, sizeof(*lines));
	uint64_t h = FNV_BASIS;
	char totals[48];

	for (i = 0; lines && i < n; i++) {
		const struct pc_fw_entry *e =
			i < d->n_added ? &d->added[i] : &d->removed[i - d->n_added];

		if (asprintf(&lines[k], "%c%s %s %s %s %s %s", i < d->n_added ? '+' : '-',
			     pc_fw_entry_kind_name(e->kind), e->family, e->table, e->chain,
			     e->object, e->text) >= 0)
			k++;
	}
	if (lines)
		qsort(lines, k, sizeof(*lines), cmp_str);
	for (i = 0; i < k; i++) {
		h = fnv1a(lines[i], strlen(lines[i]) + 1, h);
		free(lines[i]);
	}
	free(lines);
	/* Entries past the kept ones still make a change different. */
	snprintf(totals, sizeof(totals), "%lu/%lu", d->added_total, d->removed_total);
	h = fnv1a(totals, strlen(totals), h);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void path_of(const struct pc_history *h, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", h->dir, name);
}

int pc_write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[400];
	size_t off = 0;
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		off += n;
	}
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

char *pc_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !(buf = malloc(st.st_size + 1))) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, st.st_size - off);

		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	if (len)
		*len = off;
	return buf;
}

/* Fill a record's index fields from its document. */
static void index_rec(struct pc_history_rec *r)
{
	struct json_object *v;

	r->seq = pc_json_int(r->doc, "seq", 0);
	r->generation = pc_json_int(r->doc, "generation", 0);
	r->vetted = json_object_object_get_ex(r->doc, "vetted", &v) && json_object_get_boolean(v);
	r->undid = pc_json_int(r->doc, "undid", 0);
	snprintf(r->kind, sizeof(r->kind), "%s", pc_json_str(r->doc, "kind", NULL) ?: "change");
	snprintf(r->before, sizeof(r->before), "%s", pc_json_str(r->doc, "before", NULL) ?: "");
	snprintf(r->after, sizeof(r->after), "%s", pc_json_str(r->doc, "after", NULL) ?: "");
	snprintf(r->fingerprint, sizeof(r->fingerprint), "%s",
		 pc_json_str(r->doc, "fingerprint", NULL) ?: "");
	r->time =
		json_object_object_get_ex(r->doc, "unix_time", &v) ? json_object_get_double(v) : 0;
}

static int push_rec(struct pc_history *h, struct json_object *doc)
{
	if (h->n == h->cap) {
		int cap = h->cap ? h->cap * 2 : 32;
		struct pc_history_rec *nr = realloc(h->recs, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		h->recs = nr;
		h->cap = cap;
	}
	memset(&h->recs[h->n], 0, sizeof(h->recs[0]));
	h->recs[h->n].doc = doc;
	index_rec(&h->recs[h->n]);
	if (h->recs[h->n].seq >= h->next_seq)
		h->next_seq = h->recs[h->n].seq + 1;
	h->n++;
	return 0;
}

static bool referenced(const struct pc_history *h, const char *name)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->recs[i].before, name) || !strcmp(h->recs[i].after, name))
			return true;
	return false;
}

/* The bytes of the distinct ruleset files the records refer to. */
static void count_bytes(struct pc_history *h)
{
	char path[400];
	struct stat st;
	int i;

	h->bytes = 0;
	for (i = 0; i < h->n; i++) {
		const char *names[2] = {h->recs[i].before, h->recs[i].after};
		int k, j;

		for (k = 0; k < 2; k++) {
			bool seen = false;

			if (!names[k][0])
				continue;
			/* Once per file: consecutive records share one. */
			for (j = 0; j < i && !seen; j++)
				seen = !strcmp(h->recs[j].before, names[k]) ||
				       !strcmp(h->recs[j].after, names[k]);
			if (!seen && k == 1 && !strcmp(names[0], names[1]))
				seen = true;
			path_of(h, names[k], path, sizeof(path));
			if (!seen && !stat(path, &st))
				h->bytes += st.st_size;
		}
	}
}

/* Ruleset files no record refers to any more (and leftovers of a crash) go. */
static void sweep(struct pc_history *h)
{
	DIR *dir = opendir(h->dir);
	struct dirent *e;
	char path[400];

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "rs-", 3) || n < 4)
			continue;
		if ((n > 4 && !strcmp(e->d_name + n - 4, ".tmp")) ||
		    (!strcmp(e->d_name + n - 4, ".nft") && !referenced(h, e->d_name))) {
			path_of(h, e->d_name, path, sizeof(path));
			unlink(path);
		}
	}
	closedir(dir);
}

static int rewrite(struct pc_history *h)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), path[400];
	int i, err;

	if (!buf)
		return -ENOMEM;
	buf[0] = '\0';
	for (i = 0; i < h->n; i++) {
		const char *line =
			json_object_to_json_string_ext(h->recs[i].doc, JSON_C_TO_STRING_PLAIN);
		size_t n = strlen(line);

		if (len + n + 2 > cap) {
			char *nb;

			while (len + n + 2 > cap)
				cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		memcpy(buf + len, line, n);
		buf[len + n] = '\n';
		len += n + 1;
	}
	path_of(h, PC_HISTORY_FILE, path, sizeof(path));
	err = pc_write_file_atomic(path, buf, len);
	free(buf);
	return err;
}

int pc_history_open(struct pc_history *h, const char *state_dir)
{
	char path[400], *text, *line, *save = NULL;

	memset(h, 0, sizeof(*h));
	h->max_changes = PC_HISTORY_MAX_CHANGES;
	h->max_bytes = PC_HISTORY_MAX_BYTES;
	h->next_seq = 1;
	snprintf(h->dir, sizeof(h->dir), "%s/%s", state_dir, PC_HISTORY_DIR);
	if (mkdir(h->dir, 0700) && errno != EEXIST)
		return -errno;
	path_of(h, PC_HISTORY_FILE, path, sizeof(path));
	text = pc_read_file(path, NULL);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct json_object *doc = json_tokener_parse(line);

		if (!doc || !json_object_is_type(doc, json_type_object)) {
			h->bad_lines++;
			json_object_put(doc);
			continue;
		}
		if (push_rec(h, doc)) {
			json_object_put(doc);
			break;
		}
	}
	free(text);
	if (h->bad_lines)
		pc_warn("firewall history: %lu damaged line%s in %s skipped", h->bad_lines,
			h->bad_lines == 1 ? "" : "s", path);
	sweep(h);
	count_bytes(h);
	return 0;
}

/* Store a ruleset under its name unless that file holds it already. */
static int store_ruleset(struct pc_history *h, const char *text, char *name, size_t nlen)
{
	char path[400], *old;
	size_t len;

	pc_history_ruleset_name(text, name, nlen);
	path_of(h, name, path, sizeof(path));
	old = pc_read_file(path, &len);
	if (old && len == strlen(text) && !memcmp(old, text, len)) {
		free(old);
		return 0;
	}
	free(old);
	return pc_write_file_atomic(path, text, strlen(text));
}

static void drop_oldest(struct pc_history *h)
{
	json_object_put(h->recs[0].doc);
	memmove(h->recs, h->recs + 1, (h->n - 1) * sizeof(h->recs[0]));
	h->n--;
}

int pc_history_add(struct pc_history *h, const struct pc_fw_change *c, const struct pc_fw_diff *d,
		   const char *before, const char *after, const char *kind,
		   struct json_object *extra)
{
	struct json_object *doc = pc_fw_change_json(c, d);
	char bname[40] = "", aname[40] = "", fp[17] = "", path[400];
	const char *line;
	int err = 0, fd;
	bool trimmed = false;

	if (before)
		err = store_ruleset(h, before, bname, sizeof(bname));
	if (!err && after)
		err = store_ruleset(h, after, aname, sizeof(aname));
	if (err) {
		pc_warn("firewall history: cannot store a ruleset in %s: %s", h->dir,
			strerror(-err));
		bname[0] = aname[0] = '\0';
	}
	if (d)
		pc_fw_diff_fingerprint(d, fp);
	json_object_object_add(doc, "seq", json_object_new_uint64(h->next_seq));
	json_object_object_add(doc, "unix_time", json_object_new_double(c->time));
	json_object_object_add(doc, "kind", json_object_new_string(kind ?: "change"));
	json_object_object_add(doc, "before", bname[0] ? json_object_new_string(bname) : NULL);
	json_object_object_add(doc, "after", aname[0] ? json_object_new_string(aname) : NULL);
	json_object_object_add(doc, "before_bytes",
			       before ? json_object_new_uint64(strlen(before)) : NULL);
	json_object_object_add(doc, "after_bytes",
			       after ? json_object_new_uint64(strlen(after)) : NULL);
	json_object_object_add(doc, "fingerprint", fp[0] ? json_object_new_string(fp) : NULL);
	if (extra) {
		json_object_object_foreach(extra, k, v)
		{
			json_object_object_add(doc, k, json_object_get(v));
		}
		json_object_put(extra);
	}
	err = push_rec(h, doc);
	if (err) {
		json_object_put(doc);
		return err;
	}
	count_bytes(h);
	while (h->n > 1 && (h->n > h->max_changes || h->bytes > h->max_bytes)) {
		drop_oldest(h);
		count_bytes(h);
		trimmed = true;
	}
	if (trimmed) {
		err = rewrite(h);
		sweep(h);
	} else {
		/* The common case: one line appended. */
		path_of(h, PC_HISTORY_FILE, path, sizeof(path));
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		line = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
		if (fd < 0 || write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0)
			err = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (err)
		pc_warn("firewall history: cannot write %s: %s", h->dir, strerror(-err));
	return err;
}

const struct pc_history_rec *pc_history_find(const struct pc_history *h, uint32_t generation)
{
	int i;

	for (i = h->n - 1; i >= 0; i--)
		if (!generation || h->recs[i].generation == generation)
			return &h->recs[i];
	return NULL;
}

char *pc_history_ruleset(const struct pc_history *h, const char *name)
{
	char path[400];

	if (!name || !name[0] || strchr(name, '/')) {
		errno = ENOENT;
		return NULL;
	}
	path_of(h, name, path, sizeof(path));
	return pc_read_file(path, NULL);
}

struct json_object *pc_history_json(const struct pc_history *h)
{
	struct json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	int i;

	for (i = h->n - 1; i >= 0; i--)
		json_object_array_add(arr, json_object_get(h->recs[i].doc));
	json_object_object_add(doc, "changes", arr);
	json_object_object_add(doc, "kept", json_object_new_int(h->n));
	json_object_object_add(doc, "max_changes", json_object_new_int(h->max_changes));
	json_object_object_add(doc, "bytes", json_object_new_uint64(h->bytes));
	json_object_object_add(doc, "max_bytes", json_object_new_uint64(h->max_bytes));
	json_object_object_add(doc, "dir", json_object_new_string(h->dir));
	return doc;
}

void pc_history_close(struct pc_history *h)
{
	int i;

	for (i = 0; i < h->n; i++)
		json_object_put(h->recs[i].doc);
	free(h->recs);
	h->recs = NULL;
	h->n = h->cap = 0;
}
