// SPDX-License-Identifier: GPL-2.0
/* ruleset.c: reads `nft -a list ruleset` into chains and rules; judges what a sandbox copy reproduces. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preflight/ruleset.h"

static size_t leading_tabs(const char *s)
{
	size_t n = 0;

	while (s[n] == '\t')
		n++;
	return n;
}

/* A name as nft prints it, quotes off (they are there only when the name needs them). */
static void unquote(char *dst, size_t len, const char *name)
{
	size_t n;

	snprintf(dst, len, "%s", name[0] == '"' ? name + 1 : name);
	n = strlen(dst);
	if (n && dst[n - 1] == '"' && name[0] == '"')
		dst[n - 1] = '\0';
}

/* Does the rule write a mark ("meta mark set ...", "ct mark set ...", "mark set ...")? */
static bool writes_mark(const char *rule)
{
	const char *s;

	for (s = rule; (s = strstr(s, "mark set")); s++)
		if (s == rule || s[-1] == ' ')
			return true;
	return false;
}

int pc_nft_rules_parse(const char *text, struct pc_nft_rules *r)
{
	int i, c;

	memset(r, 0, sizeof(*r));
	if (pc_nft_listing_parse(text ? text : "", &r->l))
		return -ENOMEM;
	for (i = 0; i < r->l.n; i++)
		r->nchains += r->l.o[i].kind == PC_NFT_CHAIN;
	r->chains = calloc(r->nchains ? r->nchains : 1, sizeof(*r->chains));
	if (!r->chains)
		goto oom;
	for (c = 0, i = 0; i < r->l.n; i++) {
		const struct pc_nft_obj *o = &r->l.o[i];
		struct pc_nft_chain *ch;

		if (o->kind == PC_NFT_CHAIN) {
			ch = &r->chains[c++];
			snprintf(ch->family, sizeof(ch->family), "%s", o->family);
			unquote(ch->table, sizeof(ch->table), r->l.o[o->table].name);
			unquote(ch->name, sizeof(ch->name), o->name);
			ch->rules = calloc(o->nrules ? o->nrules : 1, sizeof(*ch->rules));
			if (!ch->rules)
				goto oom;
			continue;
		}
		/* Rules follow their chain in the listing: the last chain is theirs. */
		if (o->kind != PC_NFT_RULE || !c || !o->has_handle)
			continue;
		ch = &r->chains[c - 1];
		ch->rules[ch->nrules++] = o;
		r->sets_marks |= writes_mark(o->text);
	}
	return 0;
oom:
	pc_nft_rules_free(r);
	return -ENOMEM;
}

void pc_nft_rules_free(struct pc_nft_rules *r)
{
	int i;

	for (i = 0; r->chains && i < r->nchains; i++)
		free(r->chains[i].rules);
	free(r->chains);
	pc_nft_listing_free(&r->l);
	memset(r, 0, sizeof(*r));
}

const struct pc_nft_chain *pc_nft_chain_find(const struct pc_nft_rules *r, const char *family,
					     const char *table, const char *chain)
{
	int i;

	for (i = 0; i < r->nchains; i++)
		if (!strcmp(r->chains[i].family, family) && !strcmp(r->chains[i].table, table) &&
		    !strcmp(r->chains[i].name, chain))
			return &r->chains[i];
	return NULL;
}

int pc_nft_rule_pos(const struct pc_nft_chain *c, uint64_t handle)
{
	int i;

	for (i = 0; c && i < c->nrules; i++)
		if (c->rules[i]->handle == handle)
			return i;
	return -1;
}

void pc_nft_rule_display(const char *text, char *out, size_t len)
{
	const char *s = text;
	size_t n = 0;

	if (!len)
		return;
	while (*s && n + 1 < len) {
		unsigned long long a, b;
		int used = 0;

		/* "counter packets N bytes M" → "counter" */
		if (!strncmp(s, "counter packets ", 16) && (s == text || s[-1] == ' ') &&
		    sscanf(s, "counter packets %llu bytes %llu%n", &a, &b, &used) == 2 && used) {
			size_t k = strlen("counter");

			if (n + k >= len)
				break;
			memcpy(out + n, "counter", k);
			n += k;
			s += used;
			continue;
		}
		out[n++] = *s++;
	}
	out[n] = '\0';
}

/* ---- a copy that loads ---- */

/* The start of an xtables expression in a line ("xt match", "xt target"), outside quoted
 * strings (a comment may say the words), or NULL. */
static const char *xt_expr(const char *line, size_t len)
{
	bool quoted = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		if (quoted || (i && line[i - 1] != ' ' && line[i - 1] != '\t'))
			continue;
		if (!strncmp(line + i, "xt match ", 9) || !strncmp(line + i, "xt target ", 10))
			return line + i;
	}
	return NULL;
}

char *pc_nft_copyable(const char *listing, int *stubbed)
{
	size_t cap = strlen(listing) * 2 + 4096, n = 0;
	const char *line = listing, *nl;
	bool in_table = false, table_stubbed = false;
	char *out = malloc(cap);

	*stubbed = 0;
	if (!out)
		return NULL;
	for (; line && *line; line = nl ? nl + 1 : NULL) {
		size_t len, tabs = leading_tabs(line);
		const char *xt, *h;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (n + len + 256 >= cap) {
			char *nb = realloc(out, cap * 2 + len + 256);

			if (!nb) {
				free(out);
				return NULL;
			}
			out = nb;
			cap = cap * 2 + len + 256;
		}
		if (tabs == 0 && !strncmp(line, "table ", 6)) {
			in_table = true;
			table_stubbed = false;
		} else if (tabs == 0 && line[0] == '}' && in_table) {
			/* The table's end: the stub chain, when a rule of it needs one. */
			if (table_stubbed)
				n += snprintf(out + n, cap - n,
					      "\tchain " PC_NFT_XT_CHAIN " {\n\t\tdrop\n\t}\n");
			in_table = false;
		}
		/* Searched in this line only: the listing goes on after it. */
		xt = tabs == 2 ? xt_expr(line, len) : NULL;
		h = xt ? strstr(line, " # handle ") : NULL;
		if (xt && h && xt < h && h < line + len) {
			/* Its matches before the xt expression, then the stub. */
			memcpy(out + n, line, xt - line);
			n += xt - line;
			n += snprintf(out + n, cap - n, "jump " PC_NFT_XT_CHAIN "\n");
			table_stubbed = true;
			(*stubbed)++;
			continue;
		}
		memcpy(out + n, line, len);
		n += len;
		out[n++] = '\n';
	}
	out[n] = '\0';
	return out;
}

/* ---- what a copy cannot reproduce ---- */

#define MAX_TOKENS 256

/*
 * Split a rule into words (blanks, tabs, braces and commas separate them), in buf. Its comment
 * is left out: a comment's words are not expressions.
 */
static int tokenize(const char *rule, char *buf, size_t len, char *tok[], int max)
{
	int n = 0;
	char *save = NULL, *t, *c;

	snprintf(buf, len, "%s", rule);
	for (c = buf; (c = strstr(c, "comment \"")); c++) {
		char *end = strchr(c + 9, '"');

		if (c != buf && c[-1] != ' ')
			continue;
		memset(c, ' ', end ? (size_t)(end + 1 - c) : strlen(c));
	}
	for (t = strtok_r(buf, " \t{},", &save); t && n < max; t = strtok_r(NULL, " \t{},", &save))
		tok[n++] = t;
	return n;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool followed_by_set(char *tok[], int n, int i)
{
	return i + 1 < n && !strcmp(tok[i + 1], "set");
}

/* Keywords that, read (not set), make a rule depend on state outside the copy. */
static const struct {
	const char *first, *second; /* second NULL: the first alone */
	const char *what;
} outside[] = {
	{"skuid", NULL, "the socket's owner (meta skuid)"},
	{"skgid", NULL, "the socket's group (meta skgid)"},
	{"cgroup", NULL, "the socket's cgroup (meta cgroup)"},
	{"socket", NULL, "the socket (socket ...)"},
	{"secmark", NULL, "a security mark"},
	{"ipsec", NULL, "IPsec state"},
	{"rt", NULL, "routing data (rt ...)"},
	{"osf", NULL, "the client's OS fingerprint (osf)"},
	{"numgen", NULL, "a random number (numgen)"},
	{"limit", NULL, "a rate limit's state (limit)"},
	{"meter", NULL, "a meter's state"},
	{"iifgroup", NULL, "an interface group"},
	{"oifgroup", NULL, "an interface group"},
	{"sdif", NULL, "a VRF device"},
	{"sdifname", NULL, "a VRF device"},
	{"priority", NULL, "the packet's priority (meta priority)"},
	{"cpu", NULL, "the CPU (meta cpu)"},
	{"rtclassid", NULL, "a routing realm"},
	{"nftrace", NULL, "the trace flag"},
	{"exthdr", NULL, "extension headers"},
	{"option", NULL, "IP or TCP options"},
	{"ct", "zone", "a conntrack zone"},
	{"ct", "helper", "a conntrack helper"},
	{"ct", "label", "conntrack labels"},
	{"ct", "count", "a connection count"},
	{"ct", "expiration", "a conntrack timeout"},
	{"ct", "bytes", "conntrack counters"},
	{"ct", "packets", "conntrack counters"},
	{"ct", "avgpkt", "conntrack counters"},
	{"ip", "ttl", "the TTL"},
	{"ip6", "hoplimit", "the hop limit"},
	{"ip", "dscp", "the DSCP"},
	{"ip6", "dscp", "the DSCP"},
	{"ip", "ecn", "the ECN bits"},
	{"ip6", "ecn", "the ECN bits"},
	{"ip", "length", "the packet length"},
	{"ip6", "length", "the packet length"},
	{"meta", "length", "the packet length"},
	{"udp", "length", "the packet length"},
	{"ip", "id", "the IP id"},
	{"ip", "frag-off", "fragment offsets"},
	{"ip6", "flowlabel", "the flow label"},
	{"tcp", "window", "the TCP window"},
	{"tcp", "sequence", "TCP sequence numbers"},
	{"tcp", "ackseq", "TCP sequence numbers"},
	{"tcp", "urgptr", "the urgent pointer"},
	{"tcp", "checksum", "checksums"},
	{"udp", "checksum", "checksums"},
};

const char *pc_nft_outside_state(const char *rule, bool marks_set)
{
	char buf[1024], *tok[MAX_TOKENS];
	int n = tokenize(rule, buf, sizeof(buf), tok, MAX_TOKENS), i;
	size_t k;

	/* Raw payload expressions (@th,16,16): bytes a sample does not keep. A set is @name
	 * without the comma. */
	if (strstr(rule, "@ll,") || strstr(rule, "@nh,") || strstr(rule, "@th,") ||
	    strstr(rule, "@ih,"))
		return "raw packet bytes (@nh, @th ...)";
	for (i = 0; i < n; i++) {
		const char *t = tok[i];

		/* An interface by index: the copy's interfaces have other indexes. */
		if ((!strcmp(t, "iif") || !strcmp(t, "oif")) && i + 1 < n &&
		    (is_number(tok[i + 1]) ||
		     (!strcmp(tok[i + 1], "!=") && i + 2 < n && is_number(tok[i + 2]))))
			return "an interface by index (iif/oif)";
		if (!strcmp(t, "mark") && !followed_by_set(tok, n, i) && !marks_set)
			return i && !strcmp(tok[i - 1], "ct")
				       ? "a conntrack mark set outside the "
					 "ruleset (ct mark)"
				       : "a packet mark set outside the ruleset "
					 "(meta mark)";
		for (k = 0; k < sizeof(outside) / sizeof(outside[0]); k++) {
			if (!outside[k].second) {
				if (!strcmp(t, outside[k].first) && !followed_by_set(tok, n, i))
					return outside[k].what;
				continue;
			}
			if (i + 1 < n && !strcmp(t, outside[k].first) &&
			    !strcmp(tok[i + 1], outside[k].second) &&
			    !followed_by_set(tok, n, i + 1))
				return outside[k].what;
		}
	}
	return NULL;
}

const char *pc_nft_conn_state(const char *rule)
{
	char buf[1024], *tok[MAX_TOKENS];
	int n = tokenize(rule, buf, sizeof(buf), tok, MAX_TOKENS), i;

	for (i = 0; i < n; i++) {
		if (!strcmp(tok[i], "ct") && !followed_by_set(tok, n, i + 1))
			return "conntrack state (ct ...)";
		if (!strcmp(tok[i], "tcp") && i + 1 < n && !strcmp(tok[i + 1], "flags"))
			return "TCP flags";
	}
	return NULL;
}

/* ---- interfaces a listing names ---- */

static bool name_known(char names[][IF_NAMESIZE], int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return true;
	return false;
}

/* One name, quoted or bare; a number (an index) or a variable is no name. */
static int add_name(char names[][IF_NAMESIZE], int n, int max, const char *tok)
{
	char name[IF_NAMESIZE + 2];
	size_t len;

	snprintf(name, sizeof(name), "%s", tok[0] == '"' ? tok + 1 : tok);
	len = strlen(name);
	while (len && (name[len - 1] == '"' || name[len - 1] == ';'))
		name[--len] = '\0';
	if (!len || len >= IF_NAMESIZE || is_number(name) || name[0] == '$' || name[0] == '@' ||
	    strchr(name, '*') || n >= max || name_known(names, n, name))
		return n;
	snprintf(names[n], IF_NAMESIZE, "%s", name);
	return n + 1;
}

int pc_nft_ifnames(const char *text, char names[][IF_NAMESIZE], int max)
{
	const char *line = text, *nl;
	int n = 0;

	for (; line && *line; line = nl ? nl + 1 : NULL) {
		char one[1024], buf[1024], *tok[MAX_TOKENS];
		size_t len;
		int nt, i, j;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (len >= sizeof(one))
			len = sizeof(one) - 1;
		memcpy(one, line, len);
		one[len] = '\0';
		/* Tokens split on blanks and braces keep a list's names apart. */
		nt = tokenize(one, buf, sizeof(buf), tok, MAX_TOKENS);
		for (i = 0; i < nt; i++) {
			if (!strcmp(tok[i], "devices") && i + 1 < nt && !strcmp(tok[i + 1], "=")) {
				/* devices = { a, b }: names up to the end of the line */
				for (j = i + 2; j < nt; j++)
					n = add_name(names, n, max, tok[j]);
				break;
			}
			if (strcmp(tok[i], "iif") && strcmp(tok[i], "oif") &&
			    strcmp(tok[i], "device"))
				continue;
			j = i + 1;
			if (j < nt && (!strcmp(tok[j], "!=") || !strcmp(tok[j], "==")))
				j++;
			/* One name, or a set of them: nft quotes interface names. */
			if (j < nt)
				n = add_name(names, n, max, tok[j]);
			for (j++; j < nt && tok[j][0] == '"'; j++)
				n = add_name(names, n, max, tok[j]);
		}
	}
	return n;
}
