// SPDX-License-Identifier: GPL-2.0
/* diff.c: tables, chains, rules and sets of two listings compared; the entries and a summary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "firewall/diff.h"
#include "firewall/who.h"
#include "jsonutil.h"

#define ELEMS_TEXT_MAX 400 /* bytes of an elements entry's text */

struct ctx {
	const struct pc_nft_listing *b, *a;
	struct pc_fw_diff *d;
	int err;
};

static void push(struct ctx *c, bool added, const struct pc_fw_entry *e, const char *text)
{
	struct pc_fw_entry *arr = added ? c->d->added : c->d->removed;
	int *n = added ? &c->d->n_added : &c->d->n_removed;

	if (added)
		c->d->added_total++;
	else
		c->d->removed_total++;
	if (*n == PC_FW_DIFF_MAX)
		return;
	arr[*n] = *e;
	arr[*n].text = strdup(text ? text : "");
	if (!arr[*n].text) {
		c->err = -ENOMEM;
		return;
	}
	(*n)++;
}

static struct pc_fw_entry base(enum pc_fw_entry_kind kind, const struct pc_nft_obj *o)
{
	struct pc_fw_entry e = {.kind = kind, .count = 1};

	snprintf(e.family, sizeof(e.family), "%s", o->family);
	return e;
}

static const char *plural(unsigned long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void push_table(struct ctx *c, bool added, const struct pc_nft_obj *t)
{
	struct pc_fw_entry e = base(PC_FWE_TABLE, t);
	char text[300];

	snprintf(e.table, sizeof(e.table), "%s", t->name);
	e.count = t->nrules;
	snprintf(text, sizeof(text), "table %s %s (%d %s, %d %s, %d %s)", t->family, t->name,
		 t->nchains, plural(t->nchains, "chain", "chains"), t->nrules,
		 plural(t->nrules, "rule", "rules"), t->nsets, plural(t->nsets, "set", "sets"));
	push(c, added, &e, text);
}

static const struct pc_nft_obj *table_of(const struct pc_nft_listing *l, const struct pc_nft_obj *o)
{
	return &l->o[o->table];
}

static void push_chain(struct ctx *c, const struct pc_nft_listing *l, bool added,
		       const struct pc_nft_obj *ch)
{
	struct pc_fw_entry e = base(PC_FWE_CHAIN, ch);
	char text[600];

	snprintf(e.table, sizeof(e.table), "%s", table_of(l, ch)->name);
	snprintf(e.chain, sizeof(e.chain), "%s", ch->name);
	e.count = ch->nrules;
	snprintf(text, sizeof(text), "chain %s %s %s%s%s%s (%d %s)", ch->family, e.table, ch->name,
		 ch->text ? " { " : "", ch->text ?: "", ch->text ? " }" : "", ch->nrules,
		 plural(ch->nrules, "rule", "rules"));
	push(c, added, &e, text);
}

static void push_rule(struct ctx *c, const struct pc_nft_listing *l, bool added,
		      const struct pc_nft_obj *r)
{
	struct pc_fw_entry e = base(PC_FWE_RULE, r);

	snprintf(e.table, sizeof(e.table), "%s", table_of(l, r)->name);
	snprintf(e.chain, sizeof(e.chain), "%s", l->o[r->chain].name);
	e.has_handle = r->has_handle;
	e.handle = r->handle;
	push(c, added, &e, r->text);
}

static void push_flush(struct ctx *c, const struct pc_nft_obj *t, const struct pc_nft_obj *ch,
		       unsigned long rules, int tables)
{
	struct pc_fw_entry e = {.kind = PC_FWE_FLUSH, .count = rules};
	char text[300];

	if (!t) {
		snprintf(text, sizeof(text), "flush ruleset (%d %s, %lu %s)", tables,
			 plural(tables, "table", "tables"), rules, plural(rules, "rule", "rules"));
	} else {
		snprintf(e.family, sizeof(e.family), "%s", t->family);
		snprintf(e.table, sizeof(e.table), "%s", t->name);
		if (ch)
			snprintf(e.chain, sizeof(e.chain), "%s", ch->name);
		snprintf(text, sizeof(text), "flush %s %s %s%s%s (%lu %s)", ch ? "chain" : "table",
			 t->family, t->name, ch ? " " : "", ch ? ch->name : "", rules,
			 plural(rules, "rule", "rules"));
	}
	push(c, false, &e, text);
}

static void push_set(struct ctx *c, const struct pc_nft_listing *l, bool added,
		     const struct pc_nft_obj *s)
{
	struct pc_fw_entry e = base(s->kind == PC_NFT_SET ? PC_FWE_SET : PC_FWE_OBJECT, s);
	char text[600];

	snprintf(e.table, sizeof(e.table), "%s", table_of(l, s)->name);
	snprintf(e.object, sizeof(e.object), "%s", s->name);
	if (s->kind == PC_NFT_SET) {
		e.count = s->nelems;
		snprintf(text, sizeof(text), "%s %s %s %s { %s } (%d %s)", s->type, s->family,
			 e.table, s->name, s->text ?: "", s->nelems,
			 plural(s->nelems, "element", "elements"));
	} else {
		snprintf(text, sizeof(text), "%s %s %s %s%s%s%s", s->type, s->family, e.table,
			 s->name, s->text ? " { " : "", s->text ?: "", s->text ? " }" : "");
	}
	push(c, added, &e, text);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Elements in one set and not in the other (a multiset difference), as one entry. */
static void push_elems(struct ctx *c, const struct pc_nft_listing *l, bool added,
		       const struct pc_nft_obj *s, char **only, int n)
{
	struct pc_fw_entry e = base(PC_FWE_ELEMENTS, s);
	char text[ELEMS_TEXT_MAX + 64];
	size_t off = 0;
	int i;

	if (!n)
		return;
	snprintf(e.table, sizeof(e.table), "%s", table_of(l, s)->name);
	snprintf(e.object, sizeof(e.object), "%s", s->name);
	e.count = n;
	text[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t need = strlen(only[i]) + 2;

		if (off + need > ELEMS_TEXT_MAX) {
			snprintf(text + off, sizeof(text) - off, "%s... (%d in all)",
				 off ? ", " : "", n);
			break;
		}
		off += snprintf(text + off, sizeof(text) - off, "%s%s", off ? ", " : "", only[i]);
	}
	push(c, added, &e, text);
}

static void diff_elems(struct ctx *c, const struct pc_nft_obj *bs, const struct pc_nft_obj *as)
{
	char **x = malloc((bs->nelems + 1) * sizeof(*x)),
	     **y = malloc((as->nelems + 1) * sizeof(*y));
	char **ox = malloc((bs->nelems + 1) * sizeof(*x)),
	     **oy = malloc((as->nelems + 1) * sizeof(*y));
	int i = 0, j = 0, nx = 0, ny = 0;

	if (!x || !y || !ox || !oy) {
		c->err = -ENOMEM;
		goto out;
	}
	memcpy(x, bs->elems, bs->nelems * sizeof(*x));
	memcpy(y, as->elems, as->nelems * sizeof(*y));
	qsort(x, bs->nelems, sizeof(*x), cmp_str);
	qsort(y, as->nelems, sizeof(*y), cmp_str);
	while (i < bs->nelems || j < as->nelems) {
		int r = i == bs->nelems ? 1 : j == as->nelems ? -1 : strcmp(x[i], y[j]);

		if (r == 0) {
			i++;
			j++;
		} else if (r < 0) {
			ox[nx++] = x[i++];
		} else {
			oy[ny++] = y[j++];
		}
	}
	push_elems(c, c->b, false, bs, ox, nx);
	push_elems(c, c->a, true, as, oy, ny);
out:
	free(x);
	free(y);
	free(ox);
	free(oy);
}

static bool same_str(const char *x, const char *y)
{
	return !strcmp(x ?: "", y ?: "");
}

/* The rules of a chain follow it in the listing. */
static int chain_rules(const struct pc_nft_listing *l, int ci, int **out)
{
	int i, n = 0;

	*out = malloc((l->o[ci].nrules + 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = ci + 1; i < l->n && n < l->o[ci].nrules; i++)
		if (l->o[i].kind == PC_NFT_RULE && l->o[i].chain == ci)
			(*out)[n++] = i;
	return n;
}

struct rsort {
	const struct pc_nft_listing *l;
	int *idx; /* listing indexes of the rules */
};

static struct rsort *sort_ctx; /* qsort has no context argument in C11 */

static int cmp_text(const void *x, const void *y)
{
	const struct pc_nft_obj *a = &sort_ctx->l->o[sort_ctx->idx[*(const int *)x]];
	const struct pc_nft_obj *b = &sort_ctx->l->o[sort_ctx->idx[*(const int *)y]];
	int r = strcmp(a->text, b->text);

	return r ? r : *(const int *)x - *(const int *)y;
}

static int cmp_handle(const void *x, const void *y)
{
	uint64_t a = sort_ctx->l->o[sort_ctx->idx[*(const int *)x]].handle;
	uint64_t b = sort_ctx->l->o[sort_ctx->idx[*(const int *)y]].handle;

	return a < b ? -1 : a > b;
}

/* Longest increasing subsequence of seq[0..n): keep[i] set for its members. */
static int lis(const int *seq, int n, bool *keep)
{
	int *tail = malloc((n + 1) * sizeof(int)), *prev = malloc((n + 1) * sizeof(int));
	int len = 0, i, k;

	if (!tail || !prev) {
		free(tail);
		free(prev);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		int lo = 0, hi = len;

		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (seq[tail[mid]] < seq[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo ? tail[lo - 1] : -1;
		tail[lo] = i;
		if (lo == len)
			len++;
	}
	for (i = 0; i < n; i++)
		keep[i] = false;
	for (k = len ? tail[len - 1] : -1; k >= 0; k = prev[k])
		keep[k] = true;
	free(tail);
	free(prev);
	return 0;
}

static void diff_rules(struct ctx *c, int bci, int aci, bool same_incarnation)
{
	int *br = NULL, *ar = NULL, *mb = NULL, *ma = NULL, *order = NULL, *seq = NULL;
	bool *keep = NULL;
	int nb, na, i, j, npairs = 0;
	struct rsort rs;

	nb = chain_rules(c->b, bci, &br);
	na = chain_rules(c->a, aci, &ar);
	if (nb < 0 || na < 0)
		goto oom;
	if (nb >= 2 && na == 0) {
		push_flush(c, table_of(c->b, &c->b->o[bci]), &c->b->o[bci], nb, 0);
		goto out;
	}
	mb = malloc((nb + 1) * sizeof(int));
	ma = malloc((na + 1) * sizeof(int));
	order = malloc((nb + 1) * sizeof(int));
	if (!mb || !ma || !order)
		goto oom;
	for (i = 0; i < nb; i++)
		mb[i] = -1;
	for (j = 0; j < na; j++)
		ma[j] = -1;
	/* Same table incarnation: a handle names the same rule before and after. */
	for (i = 0; i < nb; i++)
		order[i] = i;
	rs = (struct rsort){.l = c->b, .idx = br};
	sort_ctx = &rs;
	if (same_incarnation) {
		qsort(order, nb, sizeof(int), cmp_handle);
		for (j = 0; j < na; j++) {
			const struct pc_nft_obj *r = &c->a->o[ar[j]];
			int lo = 0, hi = nb;

			if (!r->has_handle)
				continue;
			while (lo < hi) {
				int mid = (lo + hi) / 2;

				if (c->b->o[br[order[mid]]].handle < r->handle)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < nb && c->b->o[br[order[lo]]].handle == r->handle &&
			    same_str(c->b->o[br[order[lo]]].text, r->text)) {
				mb[order[lo]] = j;
				ma[j] = order[lo];
			}
		}
	}
	/* Then by text: a reload or a flush-and-refill gives every rule a new handle. */
	qsort(order, nb, sizeof(int), cmp_text);
	for (j = 0; j < na; j++) {
		const char *t = c->a->o[ar[j]].text;
		int lo = 0, hi = nb;

		if (ma[j] >= 0)
			continue;
		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (strcmp(c->b->o[br[order[mid]]].text, t) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nb && !strcmp(c->b->o[br[order[lo]]].text, t); lo++)
			if (mb[order[lo]] < 0) {
				mb[order[lo]] = j;
				ma[j] = order[lo];
				break;
			}
	}
	/* A matched rule out of order moved: removed from its old place, added at the new. */
	seq = malloc((nb + 1) * sizeof(int));
	keep = malloc((nb + 1) * sizeof(bool));
	if (!seq || !keep)
		goto oom;
	for (i = 0; i < nb; i++)
		if (mb[i] >= 0)
			seq[npairs++] = mb[i];
	if (lis(seq, npairs, keep))
		goto oom;
	for (i = 0, npairs = 0; i < nb; i++)
		if (mb[i] >= 0 && !keep[npairs++]) {
			ma[mb[i]] = -1;
			mb[i] = -1;
		}
	for (i = 0; i < nb; i++)
		if (mb[i] < 0)
			push_rule(c, c->b, false, &c->b->o[br[i]]);
	for (j = 0; j < na; j++)
		if (ma[j] < 0)
			push_rule(c, c->a, true, &c->a->o[ar[j]]);
	goto out;
oom:
	c->err = -ENOMEM;
out:
	free(br);
	free(ar);
	free(mb);
	free(ma);
	free(order);
	free(seq);
	free(keep);
}

/* A chain's spec without its policy, to tell a policy change from a hook change. */
static void spec_sans_policy(const char *spec, char *buf, size_t len)
{
	const char *p = spec ? strstr(spec, "policy ") : NULL;

	if (!p) {
		snprintf(buf, len, "%s", spec ?: "");
		return;
	}
	snprintf(buf, len, "%.*s%s", (int)(p - spec), spec, p + strcspn(p, ";"));
}

static void diff_chain(struct ctx *c, int bci, int aci, bool same_incarnation, bool rules)
{
	const struct pc_nft_obj *bc = &c->b->o[bci], *ac = &c->a->o[aci];
	char bp[32], ap[32], bs[512], as[512];
	const char *pb = pc_nft_chain_policy(bc, bp, sizeof(bp));
	const char *pa = pc_nft_chain_policy(ac, ap, sizeof(ap));

	spec_sans_policy(bc->text, bs, sizeof(bs));
	spec_sans_policy(ac->text, as, sizeof(as));
	if (strcmp(bs, as)) {
		/* Type, hook or priority: nft recreates the chain for that. */
		push_chain(c, c->b, false, bc);
		push_chain(c, c->a, true, ac);
	} else if (!same_str(pb, pa)) {
		struct pc_fw_entry e = base(PC_FWE_POLICY, bc);
		char text[48];

		snprintf(e.table, sizeof(e.table), "%s", table_of(c->b, bc)->name);
		snprintf(e.chain, sizeof(e.chain), "%s", bc->name);
		snprintf(text, sizeof(text), "policy %s", pb ?: "accept");
		push(c, false, &e, text);
		snprintf(text, sizeof(text), "policy %s", pa ?: "accept");
		push(c, true, &e, text);
	}
	if (rules)
		diff_rules(c, bci, aci, same_incarnation);
}

/* The object of a kind and name in a table of l, or -1. */
static int find_in_table(const struct pc_nft_listing *l, int ti, const struct pc_nft_obj *like)
{
	int i;

	for (i = ti + 1; i < l->n && l->o[i].kind != PC_NFT_TABLE; i++)
		if (l->o[i].kind == like->kind && !strcmp(l->o[i].name, like->name) &&
		    !strcmp(l->o[i].type, like->type))
			return i;
	return -1;
}

static int find_table(const struct pc_nft_listing *l, const struct pc_nft_obj *t)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->o[i].kind == PC_NFT_TABLE && !strcmp(l->o[i].family, t->family) &&
		    !strcmp(l->o[i].name, t->name))
			return i;
	return -1;
}

/* A table flushed: the same chains, all rules gone (more than one: one is a deletion). */
static bool table_flushed(struct ctx *c, int bti, int ati)
{
	int i;

	if (c->b->o[bti].nrules < 2 || c->a->o[ati].nrules || c->b->o[bti].nchains < 2 ||
	    c->b->o[bti].nchains != c->a->o[ati].nchains)
		return false;
	for (i = bti + 1; i < c->b->n && c->b->o[i].kind != PC_NFT_TABLE; i++)
		if (c->b->o[i].kind == PC_NFT_CHAIN && find_in_table(c->a, ati, &c->b->o[i]) < 0)
			return false;
	return true;
}

static void diff_table(struct ctx *c, int bti, int ati)
{
	const struct pc_nft_obj *bt = &c->b->o[bti], *at = &c->a->o[ati];
	bool same = bt->has_handle && at->has_handle && bt->handle == at->handle;
	bool flushed = table_flushed(c, bti, ati);
	int i, k;

	if (!same_str(bt->text, at->text)) {
		struct pc_fw_entry e = base(PC_FWE_OBJECT, bt);
		char text[300];

		snprintf(e.table, sizeof(e.table), "%s", bt->name);
		snprintf(text, sizeof(text), "table %s %s { %s }", bt->family, bt->name,
			 bt->text ?: "");
		push(c, false, &e, text);
		snprintf(text, sizeof(text), "table %s %s { %s }", at->family, at->name,
			 at->text ?: "");
		push(c, true, &e, text);
	}
	if (flushed)
		push_flush(c, bt, NULL, bt->nrules, 0);
	for (i = bti + 1; i < c->b->n && c->b->o[i].kind != PC_NFT_TABLE && !c->err; i++) {
		const struct pc_nft_obj *o = &c->b->o[i];

		if (o->kind == PC_NFT_RULE)
			continue;
		k = find_in_table(c->a, ati, o);
		if (o->kind == PC_NFT_CHAIN) {
			if (k < 0)
				push_chain(c, c->b, false, o);
			else
				diff_chain(c, i, k, same, !flushed);
		} else if (k < 0) {
			push_set(c, c->b, false, o);
		} else if (!same_str(o->text, c->a->o[k].text)) {
			push_set(c, c->b, false, o);
			push_set(c, c->a, true, &c->a->o[k]);
		} else if (o->kind == PC_NFT_SET) {
			diff_elems(c, o, &c->a->o[k]);
		}
	}
	for (i = ati + 1; i < c->a->n && c->a->o[i].kind != PC_NFT_TABLE && !c->err; i++) {
		const struct pc_nft_obj *o = &c->a->o[i];

		if (o->kind == PC_NFT_RULE || find_in_table(c->b, bti, o) >= 0)
			continue;
		if (o->kind == PC_NFT_CHAIN)
			push_chain(c, c->a, true, o);
		else
			push_set(c, c->a, true, o);
	}
}

static int count_kind(const struct pc_nft_listing *l, enum pc_nft_kind k)
{
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->o[i].kind == k;
	return n;
}

static void place(const struct pc_fw_entry *e, char *buf, size_t len)
{
	if (!e->table[0])
		snprintf(buf, len, "the ruleset");
	else if (e->chain[0])
		snprintf(buf, len, "%s %s %s", e->family, e->table, e->chain);
	else if (e->object[0])
		snprintf(buf, len, "%s %s %s", e->family, e->table, e->object);
	else
		snprintf(buf, len, "%s %s", e->family, e->table);
}

void pc_fw_entry_line(const struct pc_fw_entry *e, char *buf, size_t len)
{
	char where[200];

	switch (e->kind) {
	case PC_FWE_RULE:
		place(e, where, sizeof(where));
		if (e->has_handle)
			snprintf(buf, len, "%s handle %llu: %s", where,
				 (unsigned long long)e->handle, e->text);
		else
			snprintf(buf, len, "%s: %s", where, e->text);
		break;
	case PC_FWE_POLICY:
		place(e, where, sizeof(where));
		snprintf(buf, len, "%s: %s", where, e->text);
		break;
	case PC_FWE_ELEMENTS:
		place(e, where, sizeof(where));
		snprintf(buf, len, "%lu %s of %s: %s", e->count,
			 plural(e->count, "element", "elements"), where, e->text);
		break;
	default:
		snprintf(buf, len, "%s", e->text);
		break;
	}
}

static void summarize(struct pc_fw_diff *d)
{
	char out[2048], line[PC_FW_SUMMARY_LEN * 2], where[200], first[200];
	char *s = out;
	size_t n, len = sizeof(out);
	unsigned long total = d->added_total + d->removed_total;
	int i, places = 0;
	bool one_place = true;

	if (!total) {
		snprintf(s, len, "no rule changes");
		goto out;
	}
	if (d->n_added == 1 && d->n_removed == 1 && total == 2 &&
	    d->added[0].kind == PC_FWE_POLICY && d->removed[0].kind == PC_FWE_POLICY) {
		place(&d->added[0], where, sizeof(where));
		snprintf(s, len, "%s: %s -> %s", where, d->removed[0].text, d->added[0].text + 7);
		goto out;
	}
	if (total == 1) {
		const struct pc_fw_entry *e = d->n_added ? &d->added[0] : &d->removed[0];

		pc_fw_entry_line(e, line, sizeof(line));
		if (e->kind == PC_FWE_FLUSH)
			snprintf(s, len, "%s", line);
		else
			snprintf(s, len, "%s %s%s", d->n_added ? "added" : "removed",
				 e->kind == PC_FWE_RULE ? "rule " : "", line);
		goto out;
	}
	/* Many: the counts, where, and as many of the entries as fit. */
	first[0] = '\0';
	for (i = 0; i < d->n_added + d->n_removed; i++) {
		const struct pc_fw_entry *e =
			i < d->n_removed ? &d->removed[i] : &d->added[i - d->n_removed];

		place(e, where, sizeof(where));
		if (!first[0])
			snprintf(first, sizeof(first), "%s", where);
		else if (strcmp(first, where))
			one_place = false;
	}
	n = snprintf(s, len, "+%lu -%lu in ", d->added_total, d->removed_total);
	if (one_place) {
		n += snprintf(s + n, n < len ? len - n : 0, "%s:", first);
		for (i = 0; i < d->n_removed + d->n_added && n < len; i++) {
			const struct pc_fw_entry *e =
				i < d->n_removed ? &d->removed[i] : &d->added[i - d->n_removed];

			n += snprintf(s + n, len - n, " %c%s", i < d->n_removed ? '-' : '+',
				      e->text);
		}
	} else {
		/* Distinct places, in order, up to PC_FW_SUMMARY_SHOW. */
		char seen[PC_FW_SUMMARY_SHOW][200];

		for (i = 0; i < d->n_removed + d->n_added; i++) {
			const struct pc_fw_entry *e =
				i < d->n_removed ? &d->removed[i] : &d->added[i - d->n_removed];
			int k;

			place(e, where, sizeof(where));
			for (k = 0; k < places && k < PC_FW_SUMMARY_SHOW; k++)
				if (!strcmp(seen[k], where))
					break;
			if (k < places && k < PC_FW_SUMMARY_SHOW)
				continue;
			if (places < PC_FW_SUMMARY_SHOW) {
				snprintf(seen[places], sizeof(seen[0]), "%s", where);
				if (n < len)
					n += snprintf(s + n, len - n, "%s%s", places ? ", " : "",
						      where);
			}
			places++;
		}
		if (places > PC_FW_SUMMARY_SHOW && n < len)
			snprintf(s + n, len - n, " and %d more places",
				 places - PC_FW_SUMMARY_SHOW);
	}
out:
	/* Too long for one line: cut on a character and say so. */
	if (strlen(out) >= sizeof(d->summary)) {
		pc_utf8_cut(out, sizeof(d->summary) - 4);
		strcat(out, "...");
	}
	memcpy(d->summary, out, strlen(out) + 1);
}

int pc_fw_diff(const struct pc_nft_listing *b, const struct pc_nft_listing *a, struct pc_fw_diff *d)
{
	struct ctx c = {.b = b, .a = a, .d = d};
	int i, k;

	memset(d, 0, sizeof(*d));
	if (count_kind(a, PC_NFT_TABLE) == 0 && count_kind(b, PC_NFT_TABLE) > 0) {
		push_flush(&c, NULL, NULL, count_kind(b, PC_NFT_RULE), count_kind(b, PC_NFT_TABLE));
	} else {
		for (i = 0; i < b->n && !c.err; i++) {
			if (b->o[i].kind != PC_NFT_TABLE)
				continue;
			k = find_table(a, &b->o[i]);
			if (k < 0)
				push_table(&c, false, &b->o[i]);
			else
				diff_table(&c, i, k);
		}
		for (i = 0; i < a->n && !c.err; i++)
			if (a->o[i].kind == PC_NFT_TABLE && find_table(b, &a->o[i]) < 0)
				push_table(&c, true, &a->o[i]);
	}
	if (c.err) {
		pc_fw_diff_free(d);
		return c.err;
	}
	summarize(d);
	return 0;
}

void pc_fw_diff_free(struct pc_fw_diff *d)
{
	int i;

	for (i = 0; i < d->n_added; i++)
		free(d->added[i].text);
	for (i = 0; i < d->n_removed; i++)
		free(d->removed[i].text);
	d->n_added = d->n_removed = 0;
}

const char *pc_fw_entry_kind_name(enum pc_fw_entry_kind k)
{
	static const char *const names[] = {"rule", "policy",	"chain",  "table",
					    "set",  "elements", "object", "flush"};

	return (unsigned int)k < sizeof(names) / sizeof(names[0]) ? names[k] : "rule";
}

struct json_object *pc_fw_entries_json(const struct pc_fw_entry *e, int n)
{
	struct json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "family", pc_json_str_or_null(e[i].family));
		json_object_object_add(o, "table", pc_json_str_or_null(e[i].table));
		json_object_object_add(o, "chain", pc_json_str_or_null(e[i].chain));
		json_object_object_add(
			o, "handle", e[i].has_handle ? json_object_new_uint64(e[i].handle) : NULL);
		json_object_object_add(o, "text", json_object_new_string(e[i].text));
		json_object_object_add(o, "kind",
				       json_object_new_string(pc_fw_entry_kind_name(e[i].kind)));
		if (e[i].object[0])
			json_object_object_add(o, "object", json_object_new_string(e[i].object));
		if (e[i].kind != PC_FWE_RULE && e[i].kind != PC_FWE_POLICY)
			json_object_object_add(o, "count", json_object_new_uint64(e[i].count));
		json_object_array_add(arr, o);
	}
	return arr;
}
