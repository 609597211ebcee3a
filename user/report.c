// SPDX-License-Identifier: GPL-2.0
/* report.c: builds the status JSON document and prints it as a table (no I/O but the FILE given). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portspec.h"
#include "report.h"
#include "jsonutil.h"

uint64_t pc_view_syn(const struct pc_port_view *v)
{
	return v->dir == PC_DIR_IN ? v->total.rx_syn : v->total.tx_syn;
}

uint64_t pc_view_synack(const struct pc_port_view *v)
{
	return v->dir == PC_DIR_IN ? v->total.tx_synack : v->total.rx_synack;
}

uint64_t pc_view_rst(const struct pc_port_view *v)
{
	return v->dir == PC_DIR_IN ? v->total.tx_rst : v->total.rx_rst;
}

uint64_t pc_view_icmp(const struct pc_port_view *v)
{
	return v->dir == PC_DIR_IN ? v->total.tx_icmp_unreach : v->total.rx_icmp_unreach;
}

void pc_format_time(double t, char *buf, size_t len)
{
	long long ms = llround(t * 1000.0);
	time_t sec = ms / 1000;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

struct json_object *pc_json_num(double v)
{
	char buf[64];
	char *p;

	if (!isfinite(v))
		return NULL;
	v = round(v * 1000.0) / 1000.0;
	snprintf(buf, sizeof(buf), "%.3f", v);
	/* json-c prints doubles with %.17g (2.3109999999999999): give it our text. */
	p = buf + strlen(buf) - 1;
	while (*p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
	return json_object_new_double_s(v, buf);
}

static struct json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

struct json_object *pc_rule_view_json(const struct pc_rule_view *r)
{
	struct json_object *o;

	if (!r)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "family", json_object_new_string(r->family ?: ""));
	json_object_object_add(o, "table", json_object_new_string(r->table ?: ""));
	json_object_object_add(o, "chain", json_object_new_string(r->chain ?: ""));
	json_object_object_add(o, "handle", r->has_handle ? u64(r->handle) : NULL);
	json_object_object_add(o, "text", json_object_new_string(r->text ?: ""));
	return o;
}

void pc_rule_view_line(const struct pc_rule_view *r, char *buf, size_t len)
{
	char h[32] = "";

	if (r->has_handle)
		snprintf(h, sizeof(h), " handle %llu", (unsigned long long)r->handle);
	snprintf(buf, len, "%s %s %s%s: %s", r->family ?: "", r->table ?: "", r->chain ?: "", h,
		 r->text ?: "");
}

static struct json_object *port_json(const struct pc_port_view *v)
{
	struct json_object *o = json_object_new_object();
	char ts[40];

	json_object_object_add(o, "proto", json_object_new_string(pc_proto_name(v->proto)));
	json_object_object_add(o, "port", json_object_new_int(v->port));
	json_object_object_add(o, "direction", json_object_new_string(pc_dir_name(v->dir)));
	json_object_object_add(o, "state", json_object_new_string(v->state ? v->state : "unknown"));
	json_object_object_add(o, "cause", v->cause ? json_object_new_string(v->cause) : NULL);
	json_object_object_add(o, "detail", v->detail ? json_object_new_string(v->detail) : NULL);
	if (v->since > 0) {
		pc_format_time(v->since, ts, sizeof(ts));
		json_object_object_add(o, "since", json_object_new_string(ts));
	} else {
		json_object_object_add(o, "since", NULL);
	}
	json_object_object_add(o, "syn_rate", pc_json_num(v->syn_rate));
	json_object_object_add(o, "answered_ratio", pc_json_num(v->answered_ratio));
	json_object_object_add(o, "baseline_rate", pc_json_num(v->baseline_rate));
	json_object_object_add(o, "drops_rate", pc_json_num(v->drops_rate));
	json_object_object_add(o, "drops_total", u64(v->drops_total));
	json_object_object_add(o, "top_drop_reason",
			       v->top_drop_reason ? json_object_new_string(v->top_drop_reason)
						  : NULL);
	json_object_object_add(o, "top_drop_rate",
			       v->top_drop_reason ? pc_json_num(v->top_drop_rate) : NULL);
	/* The live rule dropping the clients of a port down or degraded by the firewall. */
	json_object_object_add(o, "rule", pc_rule_view_json(v->rule));
	if (!v->rule && v->rule_note)
		json_object_object_add(o, "rule_note", json_object_new_string(v->rule_note));
	if (v->n_history) {
		struct json_object *h = json_object_new_array();
		int i;

		for (i = 0; i < v->n_history; i++)
			json_object_array_add(
				h,
				pc_json_num(v->history[(v->history_head + i) % PC_VIEW_HISTORY]));
		json_object_object_add(o, "syn_rate_history", h);
	}
	json_object_object_add(o, "syn_total", u64(pc_view_syn(v)));
	json_object_object_add(o, "synack_total", u64(pc_view_synack(v)));
	json_object_object_add(o, "rst_total", u64(pc_view_rst(v)));
	json_object_object_add(o, "icmp_unreach_total", u64(pc_view_icmp(v)));
	json_object_object_add(o, "packets_total", u64(v->total.rx_packets + v->total.tx_packets));
	json_object_object_add(o, "bytes_total", u64(v->total.rx_bytes + v->total.tx_bytes));
	{
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "rx_packets", u64(v->total.rx_packets));
		json_object_object_add(c, "rx_bytes", u64(v->total.rx_bytes));
		json_object_object_add(c, "rx_syn", u64(v->total.rx_syn));
		json_object_object_add(c, "rx_synack", u64(v->total.rx_synack));
		json_object_object_add(c, "rx_rst", u64(v->total.rx_rst));
		json_object_object_add(c, "rx_icmp_unreach", u64(v->total.rx_icmp_unreach));
		json_object_object_add(c, "tx_packets", u64(v->total.tx_packets));
		json_object_object_add(c, "tx_bytes", u64(v->total.tx_bytes));
		json_object_object_add(c, "tx_syn", u64(v->total.tx_syn));
		json_object_object_add(c, "tx_synack", u64(v->total.tx_synack));
		json_object_object_add(c, "tx_rst", u64(v->total.tx_rst));
		json_object_object_add(c, "tx_icmp_unreach", u64(v->total.tx_icmp_unreach));
		json_object_object_add(o, "counters", c);
	}
	return o;
}

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *global_json(const struct pc_global *g)
{
	static const char *const hooks[PC_HOOK_MAX] = {"xdp", "tc_ingress", "tc_egress", "drops"};
	struct json_object *o = json_object_new_object();
	int h;

	for (h = 0; h < PC_HOOK_MAX; h++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "packets", u64(g[h].packets));
		json_object_object_add(x, "not_ip", u64(g[h].not_ip));
		json_object_object_add(x, "malformed", u64(g[h].malformed));
		json_object_object_add(x, "frag_nonfirst", u64(g[h].frag_nonfirst));
		json_object_object_add(x, "other_l4", u64(g[h].other_l4));
		json_object_object_add(x, "monitored", u64(g[h].monitored));
		json_object_object_add(x, "icmp_errors", u64(g[h].icmp_errors));
		if (h != PC_HOOK_DROP)
			json_object_object_add(x, "invalid_tcp_flags", u64(g[h].invalid_flags));
		if (h == PC_HOOK_DROP)
			json_object_object_add(x, "foreign_netns", u64(g[h].foreign_netns));
		json_object_object_add(o, hooks[h], x);
	}
	return o;
}

static int float_cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

double pc_sampling_median(const struct pc_sampling_stats *s)
{
	float v[PC_SAMPLING_RECENT];
	unsigned int n = s->n_recent < PC_SAMPLING_RECENT ? s->n_recent : PC_SAMPLING_RECENT;

	if (!n)
		return 0;
	memcpy(v, s->recent_s, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), float_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

struct json_object *pc_report_status(const struct pc_status_meta *m,
				     const struct pc_port_view *ports, int n)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	struct json_object *ifs = json_object_new_array();
	char ts[40];
	int i;

	json_object_object_add(doc, "version", json_object_new_string(PC_VERSION));
	if (m->started > 0) {
		pc_format_time(m->started, ts, sizeof(ts));
		json_object_object_add(doc, "started", json_object_new_string(ts));
	}
	json_object_object_add(doc, "interval", pc_json_num(m->interval));
	if (m->sampling) {
		struct json_object *o = json_object_new_object();

		/* full precision: a pass is microseconds, pc_json_num would round it to 0 */
		json_object_object_add(o, "passes", json_object_new_uint64(m->sampling->passes));
		json_object_object_add(o, "total_seconds",
				       json_object_new_double(m->sampling->total_s));
		json_object_object_add(o, "max_seconds",
				       json_object_new_double(m->sampling->max_s));
		json_object_object_add(o, "last_seconds",
				       json_object_new_double(m->sampling->last_s));
		json_object_object_add(o, "median_seconds",
				       json_object_new_double(pc_sampling_median(m->sampling)));
		json_object_object_add(doc, "sampling", o);
	}
	if (m->state_dir)
		json_object_object_add(doc, "state_dir", json_object_new_string(m->state_dir));
	json_object_object_add(doc, "ports_from",
			       json_object_new_string(m->auto_ports ? "listeners" : "config"));
	for (i = 0; i < m->n_ifaces; i++) {
		const struct pc_iface_view *f = &m->ifaces[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(f->name));
		json_object_object_add(o, "ifindex", json_object_new_int(f->ifindex));
		json_object_object_add(o, "ingress", json_object_new_string(f->ingress));
		json_object_object_add(o, "xdp_mode", jstr_or_null(f->xdp_mode));
		json_object_object_add(o, "egress", json_object_new_string("tc"));
		json_object_object_add(o, "adopted", json_object_new_boolean(f->adopted));
		json_object_object_add(o, "driver", jstr_or_null(f->driver));
		json_object_object_add(o, "kind", jstr_or_null(f->kind));
		json_object_object_add(o, "reason", jstr_or_null(f->reason));
		json_object_object_add(o, "why", jstr_or_null(f->why));
		json_object_object_add(o, "xdp_ahead", jstr_or_null(f->xdp_ahead));
		json_object_array_add(ifs, o);
	}
	json_object_object_add(doc, "interfaces", ifs);
	if (m->global)
		json_object_object_add(doc, "global", global_json(m->global));
	for (i = 0; i < n; i++)
		json_object_array_add(arr, port_json(&ports[i]));
	json_object_object_add(doc, "ports", arr);
	if (m->firewall_changes)
		json_object_object_add(doc, "firewall_changes", m->firewall_changes);
	if (m->firewall_operation)
		json_object_object_add(doc, "firewall_operation", m->firewall_operation);
	return doc;
}

static double jnum(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NAN;
	return json_object_get_double(v);
}

static void fmt_num(char *buf, size_t len, double v, const char *suffix, double scale)
{
	if (isfinite(v))
		snprintf(buf, len, "%.1f%s", v * scale, suffix);
	else
		snprintf(buf, len, "-");
}

void pc_sparkline(const double *v, int n, int max, char *buf, size_t len)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	double hi = 0;
	size_t off = 0;
	int i, first = n > max ? n - max : 0;

	buf[0] = '\0';
	for (i = first; i < n; i++)
		if (isfinite(v[i]) && v[i] > hi)
			hi = v[i];
	for (i = first; i < n && off + 4 < len; i++) {
		int level = !isfinite(v[i]) || hi <= 0 ? 0 : (int)(v[i] / hi * 7.0 + 0.5);

		off += snprintf(buf + off, len - off, "%s", !isfinite(v[i]) ? " " : bars[level]);
	}
}

/* Under a port dropped by the firewall: the rule, or why it is not known. */
static void table_rule(FILE *out, struct json_object *p)
{
	struct json_object *r, *h;
	char line[700];

	if (json_object_object_get_ex(p, "rule", &r) && r) {
		struct pc_rule_view v = {
			.family = pc_json_str(r, "family", "?"),
			.table = pc_json_str(r, "table", "?"),
			.chain = pc_json_str(r, "chain", "?"),
			.has_handle = json_object_object_get_ex(r, "handle", &h) && h,
			.handle = h ? json_object_get_uint64(h) : 0,
			.text = pc_json_str(r, "text", ""),
		};

		pc_rule_view_line(&v, line, sizeof(line));
		fprintf(out, "    rule: %s\n", line);
	} else if (pc_json_str(p, "rule_note", NULL)) {
		fprintf(out, "    rule: unknown: %s\n", pc_json_str(p, "rule_note", ""));
	}
}

int pc_report_table(FILE *out, struct json_object *doc, bool sparklines)
{
	struct json_object *ports, *ifs;
	size_t i, n, n_udp = 0;

	if (!json_object_object_get_ex(doc, "ports", &ports) ||
	    !json_object_is_type(ports, json_type_array))
		return -EINVAL;
	if (json_object_object_get_ex(doc, "interfaces", &ifs) &&
	    json_object_is_type(ifs, json_type_array)) {
		/* One line per interface: they may differ (XDP on a NIC, TC ingress on veth). */
		fprintf(out, "interfaces:%s\n", json_object_array_length(ifs) ? "" : " none");
		for (i = 0; i < json_object_array_length(ifs); i++) {
			struct json_object *f = json_object_array_get_idx(ifs, i);
			const char *mode = pc_json_str(f, "xdp_mode", NULL), *ahead;
			struct json_object *a;
			bool adopted = json_object_object_get_ex(f, "adopted", &a) &&
				       json_object_get_boolean(a);
			char hook[32];

			snprintf(hook, sizeof(hook), "%s%s%s ingress",
				 pc_json_str(f, "ingress", "?"), mode ? " " : "", mode ? mode : "");
			fprintf(out, "  %-15s %-19s + tc egress%s: %s\n",
				pc_json_str(f, "name", "?"), hook, adopted ? " (adopted)" : "",
				pc_json_str(f, "why", "-"));
			ahead = pc_json_str(f, "xdp_ahead", NULL);
			if (ahead)
				fprintf(out,
					"  %-15s XDP program %s runs ahead: what it drops is not "
					"counted\n",
					"", ahead);
		}
	}
	n = json_object_array_length(ports);
	/* the columns in TCP's words; a UDP row's rate and share are its datagrams' (legend below) */
	fprintf(out, "%-15s %-9s %-16s %-20s %7s %8s %-26s %8s %10s %10s%s\n", "PORT", "STATE",
		"CAUSE", "SINCE", "SYN/s", "ANSWERED", "DROPS/s (TOP REASON)", "BASELINE", "SYN",
		"SYN-ACK", sparklines ? "  SYN/s HISTORY" : "");
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);
		struct json_object *v, *hist;
		char port[32], rate[16], ans[16], base[16], since[40], drops[40], spark[256] = "";
		const char *s, *top;
		bool udp = !strcmp(pc_json_str(p, "proto", "?"), "udp");

		snprintf(port, sizeof(port), "%s/%s:%s", pc_json_str(p, "proto", "?"),
			 pc_json_str(p, "port", "?"), pc_json_str(p, "direction", "?"));
		fmt_num(rate, sizeof(rate), jnum(p, "syn_rate"), "", 1);
		fmt_num(ans, sizeof(ans), jnum(p, "answered_ratio"), "%", 100);
		fmt_num(base, sizeof(base), jnum(p, "baseline_rate"), "", 1);
		s = pc_json_str(p, "since", "-");
		snprintf(since, sizeof(since), "%.10s %.8s", s, strlen(s) > 11 ? s + 11 : "");
		top = pc_json_str(p, "top_drop_reason", NULL);
		/* Only drops the kernel gives a reason for: TCP teardown frees packets with
		 * NOT_SPECIFIED all day long, and that is no news to an operator. */
		if (top)
			snprintf(drops, sizeof(drops), "%.1f (%s)", jnum(p, "top_drop_rate"), top);
		else
			snprintf(drops, sizeof(drops), "-");
		if (sparklines && json_object_object_get_ex(p, "syn_rate_history", &hist) &&
		    json_object_is_type(hist, json_type_array)) {
			double h[120];
			int k, n = json_object_array_length(hist);

			n = n > 120 ? 120 : n;
			for (k = 0; k < n; k++) {
				struct json_object *e = json_object_array_get_idx(hist, k);

				h[k] = e ? json_object_get_double(e) : NAN;
			}
			spark[0] = ' ';
			spark[1] = ' ';
			pc_sparkline(h, n, 40, spark + 2, sizeof(spark) - 2);
		}
		fprintf(out, "%-15s %-9s %-16s %-20s %7s %8s %-26s %8s %10s %10s%s\n", port,
			pc_json_str(p, "state", "?"), pc_json_str(p, "cause", "-"), since, rate,
			ans, drops, base, udp ? "-" : pc_json_str(p, "syn_total", "0"),
			udp ? "-" : pc_json_str(p, "synack_total", "0"), spark);
		n_udp += udp;
		s = pc_json_str(p, "detail", NULL);
		if (s && json_object_object_get_ex(p, "detail", &v))
			fprintf(out, "    %s\n", s);
		table_rule(out, p);
	}
	if (!n)
		fprintf(out, "(no monitored ports)\n");
	if (n_udp)
		fprintf(out, "udp ports: SYN/s counts datagrams, ANSWERED is the share that got "
			     "through; they have no SYN or SYN-ACK\n");
	pc_report_fw_changes(out, doc);
	return 0;
}

/* "nft -f new.nft (pid 9656, user deploy uid 1001, unit session-12.scope)" from a "by". */
static void by_line(struct json_object *by, char *buf, size_t len)
{
	const char *cmd = pc_json_str(by, "command", NULL) ?: pc_json_str(by, "comm", "?");
	const char *user = pc_json_str(by, "user", NULL), *uid = pc_json_str(by, "uid", NULL);
	const char *unit = pc_json_str(by, "unit", NULL), *ctr = pc_json_str(by, "container", NULL);
	struct json_object *gone;
	size_t n;

	n = snprintf(buf, len, "%s (pid %s", cmd, pc_json_str(by, "pid", "?"));
	if (user && n < len)
		n += snprintf(buf + n, len - n, ", user %s", user);
	if (uid && n < len)
		n += snprintf(buf + n, len - n, " uid %s", uid);
	if (unit && n < len)
		n += snprintf(buf + n, len - n, ", %s", unit);
	if (ctr && n < len)
		n += snprintf(buf + n, len - n, ", container %s", ctr);
	if (json_object_object_get_ex(by, "process_gone", &gone) && json_object_get_boolean(gone) &&
	    n < len)
		n += snprintf(buf + n, len - n, ", gone before it could be read");
	if (n < len)
		snprintf(buf + n, len - n, ")");
}

void pc_report_fw_changes(FILE *out, struct json_object *doc)
{
	struct json_object *arr, *c, *by, *v;
	size_t i, n;

	if (json_object_object_get_ex(doc, "firewall_operation", &c) && c) {
		const char *left = pc_json_str(c, "seconds_left", NULL);

		fprintf(out, "\nfirewall: %s of %s under way (%s", pc_json_str(c, "kind", "?"),
			pc_json_str(c, "file", "?"), pc_json_str(c, "state", "?"));
		if (left)
			fprintf(out, " generation %s, %s s left", pc_json_str(c, "generation", "?"),
				left);
		fprintf(out, ")\n");
	}
	if (!json_object_object_get_ex(doc, "firewall_changes", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	fprintf(out, "\nrecent firewall changes%s\n", n ? " (newest first):" : ": none heard");
	for (i = 0; i < n; i++) {
		char who[700], ts[40];
		const char *t;

		c = json_object_array_get_idx(arr, i);
		t = pc_json_str(c, "time", "?");
		snprintf(ts, sizeof(ts), "%.10s %.8s", t, strlen(t) > 11 ? t + 11 : "");
		who[0] = '\0';
		if (json_object_object_get_ex(c, "by", &by) && by)
			by_line(by, who, sizeof(who));
		fprintf(out, "  %s  gen %-6s %-8s %s\n", ts, pc_json_str(c, "generation", "?"),
			json_object_object_get_ex(c, "vetted", &v) && json_object_get_boolean(v)
				? "vetted"
				: "UNVETTED",
			who);
		fprintf(out, "      %s\n", pc_json_str(c, "summary", "(being listed)"));
	}
}
