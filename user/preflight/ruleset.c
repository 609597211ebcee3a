// SPDX-License-Identifier: GPL-2.0
/* ruleset.c: reads `nft -a list ruleset` into chains and rules; judges what a sandbox copy reproduces. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preflight/ruleset.h"

/* Copy a name token (possibly "quoted") from s into out; returns the rest of s. */
static char *take_name(char *s, char *out, size_t len)
{
	size_t i = 0;
	bool q;

	while (*s == ' ')
		s++;
	q = *s == '"';
	if (q)
		s++;
	while (*s && (q ? *s != '"' : (*s != ' ' && *s != '\t')) && i + 1 < len)
		out[i++] = *s++;
	out[i] = '\0';
	if (q && *s == '"')
		s++;
	return s;
}

static size_t leading_tabs(const char *s)
{
	size_t n = 0;

	while (s[n] == '\t')
		n++;
	return n;
}

static int add_chain(struct pc_nft_listing *l, const char *fam, const char *table, const char *name)
{
	struct pc_nft_chain *c = realloc(l->chains, (l->nchains + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	l->chains = c;
	c = &l->chains[l->nchains++];
	memset(c, 0, sizeof(*c));
	snprintf(c->family, sizeof(c->family), "%s", fam);
	snprintf(c->table, sizeof(c->table), "%s", table);
	snprintf(c->name, sizeof(c->name), "%s", name);
	return 0;
}

static int add_rule(struct pc_nft_chain *c, uint64_t handle, const char *text)
{
	struct pc_nft_rule *r = realloc(c->rules, (c->nrules + 1) * sizeof(*r));

	if (!r)
		return -ENOMEM;
	c->rules = r;
	c->rules[c->nrules++] = (struct pc_nft_rule){.handle = handle, .text = text};
	return 0;
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

int pc_nft_listing_parse(const char *text, struct pc_nft_listing *l)
{
	char fam[16] = "", table[64] = "", *line, *next;
	struct pc_nft_chain *chain = NULL;

	memset(l, 0, sizeof(*l));
	l->buf = strdup(text ? text : "");
	if (!l->buf)
		return -ENOMEM;
	for (line = l->buf; line; line = next) {
		size_t tabs = leading_tabs(line);
		char *h, *s;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (tabs == 0) {
			chain = NULL;
			if (!strncmp(line, "table ", 6))
				take_name(take_name(line + 6, fam, sizeof(fam)), table,
					  sizeof(table));
			continue;
		}
		if (tabs == 1) {
			char name[64];

			chain = NULL;
			if (strncmp(line + 1, "chain ", 6))
				continue; /* sets, maps, flowtables: their lines are not rules */
			take_name(line + 7, name, sizeof(name));
			if (add_chain(l, fam, table, name))
				goto oom;
			chain = &l->chains[l->nchains - 1];
			continue;
		}
		if (tabs != 2 || !chain)
			continue;
		/* The last one: a comment "..." may hold the same words. */
		for (h = NULL, s = line; (s = strstr(s, " # handle ")); s++)
			h = s;
		if (!h)
			continue; /* the chain's type/policy line, its comment */
		*h = '\0';
		if (add_rule(chain, strtoull(h + 10, NULL, 10), line + 2))
			goto oom;
		l->sets_marks |= writes_mark(line + 2);
	}
	return 0;
oom:
	pc_nft_listing_free(l);
	return -ENOMEM;
}

void pc_nft_listing_free(struct pc_nft_listing *l)
{
	int i;

	for (i = 0; i < l->nchains; i++)
		free(l->chains[i].rules);
	free(l->chains);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

const struct pc_nft_chain *pc_nft_chain_find(const struct pc_nft_listing *l, const char *family,
					     const char *table, const char *chain)
{
	int i;

	for (i = 0; i < l->nchains; i++)
		if (!strcmp(l->chains[i].family, family) && !strcmp(l->chains[i].table, table) &&
		    !strcmp(l->chains[i].name, chain))
			return &l->chains[i];
	return NULL;
}

int pc_nft_rule_pos(const struct pc_nft_chain *c, uint64_t handle)
{
	int i;

	for (i = 0; c && i < c->nrules; i++)
		if (c->rules[i].handle == handle)
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
