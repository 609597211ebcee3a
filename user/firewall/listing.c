// SPDX-License-Identifier: GPL-2.0
/* listing.c: parses nft's listing line by line: tabs give the depth, " # handle N" the handle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/listing.h"

static int add_obj(struct pc_nft_listing *l, const struct pc_nft_obj *o)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		struct pc_nft_obj *no = realloc(l->o, cap * sizeof(*no));

		if (!no)
			return -ENOMEM;
		l->o = no;
		l->cap = cap;
	}
	l->o[l->n] = *o;
	return l->n++;
}

/* Append a line to a text, "; "-separated. */
static int append_text(char **text, const char *s)
{
	size_t old = *text ? strlen(*text) : 0, add = strlen(s);
	char *t = realloc(*text, old + add + 3);

	if (!t)
		return -ENOMEM;
	if (old) {
		memcpy(t + old, "; ", 2);
		old += 2;
	}
	memcpy(t + old, s, add + 1);
	*text = t;
	return 0;
}

/* Split " # handle N" off the end of a line (the last one: a comment may hold the words). */
static bool take_handle(char *line, uint64_t *handle)
{
	char *h = NULL, *s, *end;

	for (s = line; (s = strstr(s, " # handle ")); s++)
		h = s;
	if (!h)
		return false;
	*handle = strtoull(h + 10, &end, 10);
	if (end == h + 10)
		return false;
	*h = '\0';
	return true;
}

/* Elements of "elements = { a, b, c }": split at commas outside braces, brackets,
 * parentheses and quotes. */
static int split_elems(struct pc_nft_obj *o, const char *body)
{
	const char *p = body, *start = body;
	int depth = 0;
	bool quoted = false;

	for (;; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == '{' || *p == '[' || *p == '('))
			depth++;
		else if (!quoted && (*p == '}' || *p == ']' || *p == ')'))
			depth--;
		if (*p == '\0' || (*p == ',' && !quoted && depth == 0)) {
			const char *a = start, *b = p;
			char **ne;

			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			if (b > a) {
				ne = realloc(o->elems, (o->nelems + 1) * sizeof(*ne));
				if (!ne)
					return -ENOMEM;
				o->elems = ne;
				o->elems[o->nelems] = strndup(a, b - a);
				if (!o->elems[o->nelems])
					return -ENOMEM;
				o->nelems++;
			}
			if (!*p)
				return 0;
			start = p + 1;
		}
	}
}

/* Net count of braces on a line, outside quotes. */
static int brace_balance(const char *s)
{
	bool quoted = false;
	int n = 0;

	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == '{')
			n++;
		else if (!quoted && *s == '}')
			n--;
	}
	return n;
}

/* Counter values and quota use, as a listing without -s prints them, are state, not
 * rules: "counter packets 12 bytes 3400" is "counter", "used 5 mbytes" goes. A stored
 * (stateful) listing then compares with a live stateless one. */
static void strip_state(char *s)
{
	static const struct {
		const char *word;
		int numbers; /* "packets N bytes M": pairs of a word and a number */
	} state[] = {{" packets ", 1}, {" bytes ", 1}, {" used ", 2}};
	size_t i;

	for (i = 0; i < sizeof(state) / sizeof(state[0]); i++) {
		char *p = s;

		while ((p = strstr(p, state[i].word))) {
			char *q = p + strlen(state[i].word), *start = q;

			while (*q >= '0' && *q <= '9')
				q++;
			if (q == start) {
				p++;
				continue;
			}
			if (state[i].numbers == 2 && *q == ' ') /* "used 5 mbytes": the unit too */
				for (q++; *q && *q != ' ' && *q != ';'; q++)
					;
			memmove(p, q, strlen(q) + 1);
		}
	}
}

static size_t leading_tabs(const char *s)
{
	size_t n = 0;

	while (s[n] == '\t')
		n++;
	return n;
}

/* "chain input {", "ct helper ftp {": type = the words before the name. */
static void header_words(const char *s, char *type, size_t tlen, char *name, size_t nlen)
{
	char buf[256], *brace, *sp;

	snprintf(buf, sizeof(buf), "%s", s);
	brace = strrchr(buf, '{');
	if (brace)
		*brace = '\0';
	for (sp = buf + strlen(buf); sp > buf && sp[-1] == ' '; sp--)
		sp[-1] = '\0';
	sp = strrchr(buf, ' ');
	/* A quoted name may hold blanks: "chain \"my chain\"" names "my chain", quoted. */
	if (sp && sp > buf && sp[1] != '"' && buf[strlen(buf) - 1] == '"') {
		char *q = sp;

		while (q > buf && *q != '"')
			q--;
		if (q > buf && q[-1] == ' ')
			sp = q - 1;
	}
	if (!sp) {
		snprintf(type, tlen, "%s", buf);
		name[0] = '\0';
		return;
	}
	*sp = '\0';
	snprintf(type, tlen, "%s", buf);
	snprintf(name, nlen, "%s", sp + 1);
}

struct parse_state {
	int table, obj, chain; /* current indexes, -1 when outside */
	char *elems;	       /* a multi-line "elements = {" being collected */
	int elems_depth;
};

static int finish_elems(struct pc_nft_listing *l, struct parse_state *st)
{
	char *body = st->elems, *open, *close;
	int err = 0;

	st->elems = NULL;
	open = strchr(body, '{');
	close = strrchr(body, '}');
	if (open && close && close > open) {
		*close = '\0';
		err = split_elems(&l->o[st->obj], open + 1);
	}
	free(body);
	return err;
}

static int parse_line(struct pc_nft_listing *l, struct parse_state *st, char *line)
{
	size_t tabs = leading_tabs(line);
	char *s = line + tabs;
	struct pc_nft_obj o = {.chain = -1};
	uint64_t handle = 0;
	bool has_handle;
	int idx;

	if (st->elems) {
		size_t a = strlen(st->elems), b = strlen(s);
		char *t = realloc(st->elems, a + b + 2);

		if (!t)
			return -ENOMEM;
		t[a] = ' ';
		memcpy(t + a + 1, s, b + 1);
		st->elems = t;
		st->elems_depth += brace_balance(s);
		return st->elems_depth > 0 ? 0 : finish_elems(l, st);
	}
	if (!*s)
		return 0;
	has_handle = take_handle(s, &handle);
	if (tabs == 0) {
		if (!strcmp(s, "}")) {
			st->table = st->obj = st->chain = -1;
			return 0;
		}
		if (strncmp(s, "table ", 6))
			return 0;
		o.kind = PC_NFT_TABLE;
		header_words(s + 6, o.family, sizeof(o.family), o.name, sizeof(o.name));
		o.has_handle = has_handle;
		o.handle = handle;
		idx = add_obj(l, &o);
		if (idx < 0)
			return idx;
		l->o[idx].table = idx;
		st->table = idx;
		st->obj = st->chain = -1;
		return 0;
	}
	if (st->table < 0)
		return 0;
	if (tabs == 1) {
		if (!strcmp(s, "}")) {
			st->obj = st->chain = -1;
			return 0;
		}
		if (s[strlen(s) - 1] != '{') /* "flags dormant", a table comment */
			return append_text(&l->o[st->table].text, s);
		header_words(s, o.type, sizeof(o.type), o.name, sizeof(o.name));
		snprintf(o.family, sizeof(o.family), "%s", l->o[st->table].family);
		o.table = st->table;
		o.has_handle = has_handle;
		o.handle = handle;
		if (!strcmp(o.type, "chain")) {
			o.kind = PC_NFT_CHAIN;
			o.type[0] = '\0';
			l->o[st->table].nchains++;
		} else {
			o.kind = !strcmp(o.type, "set") || !strcmp(o.type, "map") ? PC_NFT_SET
										  : PC_NFT_OBJECT;
			l->o[st->table].nsets += o.kind == PC_NFT_SET;
		}
		idx = add_obj(l, &o);
		if (idx < 0)
			return idx;
		st->obj = idx;
		st->chain = o.kind == PC_NFT_CHAIN ? idx : -1;
		return 0;
	}
	if (st->obj < 0)
		return 0;
	if (st->chain >= 0) {
		/* With handles, every rule has one and the chain's own lines (its spec, a
		 * comment) have none; without, the chain's lines are told by their words. */
		bool spec = l->o[st->table].has_handle
				    ? !has_handle
				    : !strncmp(s, "type ", 5) || !strncmp(s, "comment ", 8) ||
					      !strncmp(s, "policy ", 7) ||
					      !strncmp(s, "devices ", 8);

		if (spec)
			return append_text(&l->o[st->chain].text, s);
		o.kind = PC_NFT_RULE;
		snprintf(o.family, sizeof(o.family), "%s", l->o[st->table].family);
		o.table = st->table;
		o.chain = st->chain;
		o.has_handle = has_handle;
		o.handle = handle;
		o.text = strdup(s);
		if (o.text)
			strip_state(o.text);
		if (!o.text)
			return -ENOMEM;
		idx = add_obj(l, &o);
		if (idx < 0) {
			free(o.text);
			return idx;
		}
		l->o[st->chain].nrules++;
		l->o[st->table].nrules++;
		return 0;
	}
	if (l->o[st->obj].kind == PC_NFT_SET && !strncmp(s, "elements = ", 11)) {
		st->elems = strdup(s);
		if (!st->elems)
			return -ENOMEM;
		st->elems_depth = brace_balance(s);
		return st->elems_depth > 0 ? 0 : finish_elems(l, st);
	}
	/* A named counter's body is all state ("packets 0 bytes 0"); a quota's in part. */
	if (!strncmp(s, "packets ", 8) && strstr(s, " bytes "))
		return 0;
	strip_state(s);
	return append_text(&l->o[st->obj].text, s);
}

int pc_nft_listing_parse(const char *text, struct pc_nft_listing *l)
{
	struct parse_state st = {.table = -1, .obj = -1, .chain = -1};
	const char *p = text;
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	memset(l, 0, sizeof(*l));
	while (p && *p && !err) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n + 1 > cap) {
			char *nb = realloc(line, n + 1);

			if (!nb) {
				err = -ENOMEM;
				break;
			}
			line = nb;
			cap = n + 1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		err = parse_line(l, &st, line);
		p = nl ? nl + 1 : NULL;
	}
	free(st.elems);
	free(line);
	if (err)
		pc_nft_listing_free(l);
	return err;
}

void pc_nft_listing_free(struct pc_nft_listing *l)
{
	int i, j;

	for (i = 0; i < l->n; i++) {
		free(l->o[i].text);
		for (j = 0; j < l->o[i].nelems; j++)
			free(l->o[i].elems[j]);
		free(l->o[i].elems);
	}
	free(l->o);
	memset(l, 0, sizeof(*l));
}

const char *pc_nft_chain_policy(const struct pc_nft_obj *c, char *buf, size_t len)
{
	const char *p = c->text ? strstr(c->text, "policy ") : NULL;
	size_t n;

	if (!p)
		return NULL;
	p += 7;
	n = strcspn(p, "; ");
	snprintf(buf, len, "%.*s", (int)n, p);
	return buf;
}
