// SPDX-License-Identifier: GPL-2.0
/* metrics.c: formats one sample as the Prometheus text exposition 0.0.4 (pure, no I/O). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/who.h"
#include "metrics.h"
#include "portspec.h"

/* A growing string; after the first failed allocation every append is a no-op and the
 * result is NULL, so the formatting code needs no error path of its own. */
struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

static bool sb_reserve(struct sbuf *sb, size_t more)
{
	size_t cap;
	char *p;

	if (sb->oom)
		return false;
	if (sb->len + more + 1 <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 4096;
	while (cap < sb->len + more + 1)
		cap *= 2;
	p = realloc(sb->p, cap);
	if (!p) {
		sb->oom = true;
		return false;
	}
	sb->p = p;
	sb->cap = cap;
	return true;
}

static void sb_putn(struct sbuf *sb, const char *s, size_t n)
{
	if (!sb_reserve(sb, n))
		return;
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

static void sb_puts(struct sbuf *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

/* One vsnprintf in the common case: into the room already there, again only if it did not fit. */
__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (!sb_reserve(sb, 128))
		return;
	room = sb->cap - sb->len;
	va_start(ap, fmt);
	n = vsnprintf(sb->p + sb->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->p[sb->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		if (!sb_reserve(sb, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	sb->len += (size_t)n;
}

/* A counter's value: digits without printf (most of what an exposition is). */
static void sb_u64(struct sbuf *sb, uint64_t v)
{
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_putn(sb, buf + i, sizeof(buf) - (size_t)i);
}

size_t pc_metrics_escape(char *buf, size_t len, const char *value)
{
	size_t need = 0;
	const char *s;

	for (s = value ? value : ""; *s; s++) {
		const char *rep = NULL;
		char one[2] = {*s, '\0'};
		size_t i, n;

		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '"')
			rep = "\\\"";
		else if (*s == '\n')
			rep = "\\n";
		else
			rep = one;
		n = strlen(rep);
		for (i = 0; i < n; i++, need++)
			if (len && need < len - 1)
				buf[need] = rep[i];
	}
	if (len)
		buf[need < len ? need : len - 1] = '\0';
	return need;
}

static void sb_label(struct sbuf *sb, bool first, const char *name, const char *value)
{
	size_t n = pc_metrics_escape(NULL, 0, value);

	sb_printf(sb, "%s%s=\"", first ? "" : ",", name);
	if (!sb_reserve(sb, n))
		return;
	pc_metrics_escape(sb->p + sb->len, n + 1, value);
	sb->len += n;
	sb_putn(sb, "\"", 1);
}

/* Go's ParseFloat reads what %g writes; print the shortest form that reads back exactly
 * (0.04, not 0.040000000000000001), and the spec's spellings of the special values. */
static void sb_double(struct sbuf *sb, double v)
{
	char buf[40];

	if (isnan(v)) {
		sb_puts(sb, "NaN");
		return;
	}
	if (isinf(v)) {
		sb_puts(sb, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	sb_puts(sb, buf);
}

static void sb_family(struct sbuf *sb, const char *name, const char *type, const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{proto="tcp",port="443",direction="in" — the labels of a port, the set left open. The
 * fixed labels need no escaping (names and digits): copied, not printed. */
static void sb_port_labels(struct sbuf *sb, const char *name, const struct pc_port_view *v)
{
	sb_puts(sb, name);
	sb_puts(sb, "{proto=\"");
	sb_puts(sb, pc_proto_name(v->proto));
	sb_puts(sb, "\",port=\"");
	sb_u64(sb, v->port);
	sb_puts(sb, "\",direction=\"");
	sb_puts(sb, pc_dir_name(v->dir));
	sb_putn(sb, "\"", 1);
}

/* name{proto="tcp",port="443",direction="in"[,extra="value"]} */
static void sb_port_series(struct sbuf *sb, const char *name, const struct pc_port_view *v,
			   const char *extra, const char *extra_value)
{
	sb_port_labels(sb, name, v);
	if (extra)
		sb_label(sb, false, extra, extra_value);
	sb_putn(sb, "} ", 2);
}

static const char *const hook_names[PC_HOOK_MAX] = {
	[PC_HOOK_XDP] = "xdp",
	[PC_HOOK_TC_INGRESS] = "tc_ingress",
	[PC_HOOK_TC_EGRESS] = "tc_egress",
	[PC_HOOK_DROP] = "kfree_skb",
};

const char *pc_metrics_hook_name(int hook)
{
	return hook >= 0 && hook < PC_HOOK_MAX ? hook_names[hook] : "unknown";
}

static const char *view_state(const struct pc_port_view *v)
{
	return v->state ? v->state : "unknown";
}

int pc_metrics_port_up(const char *state)
{
	return state && !strcmp(state, "down") ? 0 : 1;
}

/* Per-port counters: one family each, read through the direction-aware helpers. */
static uint64_t get_packets(const struct pc_port_view *v)
{
	return v->total.rx_packets + v->total.tx_packets;
}

static uint64_t get_bytes(const struct pc_port_view *v)
{
	return v->total.rx_bytes + v->total.tx_bytes;
}

static const struct {
	const char *name;
	const char *help;
	uint64_t (*get)(const struct pc_port_view *v);
} port_counters[] = {
	{"portcanary_syn_total",
	 "Connection requests of the port in its direction: SYNs received (in) or sent (out).",
	 pc_view_syn},
	{"portcanary_synack_total", "Handshake answers: SYN-ACKs sent (in) or received (out).",
	 pc_view_synack},
	{"portcanary_rst_total",
	 "Resets answering the port's requests: RSTs sent (in) or received (out).", pc_view_rst},
	{"portcanary_icmp_unreachable_total",
	 "ICMP/ICMPv6 destination-unreachable errors about the port, sent (in) or received (out).",
	 pc_view_icmp},
	{"portcanary_packets_total", "Packets of the port, both ways (ingress and egress).",
	 get_packets},
	{"portcanary_bytes_total",
	 "Bytes of the port's packets at layer 2, both ways (ingress and egress).", get_bytes},
};

static const struct {
	const char *name;
	const char *help;
	size_t off;
} global_counters[] = {
	{"portcanary_datapath_packets_total",
	 "Packets each hook saw (kfree_skb: freed packets examined).",
	 offsetof(struct pc_global, packets)},
	{"portcanary_datapath_monitored_packets_total",
	 "Packets counted on at least one monitored port.", offsetof(struct pc_global, monitored)},
	{"portcanary_datapath_not_ip_packets_total",
	 "Packets that were neither IPv4 nor IPv6 (ARP, LLDP...).",
	 offsetof(struct pc_global, not_ip)},
	{"portcanary_datapath_malformed_packets_total",
	 "Packets with truncated or inconsistent headers (counted, never dropped).",
	 offsetof(struct pc_global, malformed)},
	{"portcanary_datapath_fragment_packets_total",
	 "IP fragments past the first, which carry no ports.",
	 offsetof(struct pc_global, frag_nonfirst)},
	{"portcanary_datapath_other_l4_packets_total",
	 "IP packets that were neither TCP, UDP nor an ICMP error.",
	 offsetof(struct pc_global, other_l4)},
	{"portcanary_datapath_icmp_unreachable_packets_total",
	 "ICMP/ICMPv6 destination-unreachable errors seen, monitored port or not.",
	 offsetof(struct pc_global, icmp_errors)},
	{"portcanary_datapath_invalid_tcp_flags_packets_total",
	 "TCP segments with SYN and RST or FIN: no connection request, no answer (scans).",
	 offsetof(struct pc_global, invalid_flags)},
};

static void fmt_meta(struct sbuf *sb, const struct pc_metrics_input *in)
{
	int i;

	sb_family(sb, "portcanary_build_info", "gauge",
		  "A metric with a constant '1' value labeled by the portcanary version.");
	sb_puts(sb, "portcanary_build_info{");
	sb_label(sb, true, "version", in->version ? in->version : "unknown");
	sb_puts(sb, "} 1\n");

	sb_family(sb, "portcanary_start_time_seconds", "gauge",
		  "Start time of the portcanary daemon since unix epoch in seconds.");
	sb_puts(sb, "portcanary_start_time_seconds ");
	sb_double(sb, in->start_time);
	sb_puts(sb, "\n");

	if (in->sample_time > 0) {
		/* The exporter keeps serving the last text if sampling ever stalls: this is
		 * what an alert can tell a stuck daemon from a quiet host with. */
		sb_family(sb, "portcanary_last_sample_timestamp_seconds", "gauge",
			  "Time of the sample this exposition shows, since unix epoch in seconds.");
		sb_puts(sb, "portcanary_last_sample_timestamp_seconds ");
		sb_double(sb, in->sample_time);
		sb_puts(sb, "\n");
	}
	if (in->interval > 0) {
		sb_family(sb, "portcanary_sample_interval_seconds", "gauge",
			  "Interval between two samples of the BPF counters, in seconds.");
		sb_puts(sb, "portcanary_sample_interval_seconds ");
		sb_double(sb, in->interval);
		sb_puts(sb, "\n");
	}
	if (in->sampling) {
		/* a summary without quantiles: rate(_sum) / rate(_count) is the mean pass */
		sb_family(sb, "portcanary_sampling_duration_seconds", "summary",
			  "What one sampling pass costs: read and sum the maps, judge every port, "
			  "hand the result over.");
		sb_puts(sb, "portcanary_sampling_duration_seconds_sum ");
		sb_double(sb, in->sampling->total_s);
		sb_printf(sb, "\nportcanary_sampling_duration_seconds_count %" PRIu64 "\n",
			  in->sampling->passes);
	}

	sb_family(sb, "portcanary_interface_info", "gauge",
		  "Interfaces portcanary is attached to: ingress hook (xdp|tc), XDP mode, driver "
		  "and why the hook was chosen.");
	for (i = 0; i < in->n_ifaces; i++) {
		const struct pc_iface_view *f = &in->ifaces[i];
		bool xdp = f->ingress && !strcmp(f->ingress, "xdp");

		sb_puts(sb, "portcanary_interface_info{");
		sb_label(sb, true, "device", f->name);
		sb_label(sb, false, "ingress_hook", f->ingress ? f->ingress : "");
		sb_label(sb, false, "xdp_mode", xdp && f->xdp_mode ? f->xdp_mode : "");
		sb_label(sb, false, "driver", f->driver ? f->driver : "");
		sb_label(sb, false, "reason", f->reason ? f->reason : "");
		sb_puts(sb, "} 1\n");
	}
}

/* Sum of a reason's count over the port's drops (the input may repeat a reason). */
static uint64_t drops_of(const struct pc_metrics_port *p, const char *reason)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < p->n_drops; i++)
		if (p->drops[i].reason && !strcmp(p->drops[i].reason, reason))
			sum += p->drops[i].count;
	return sum;
}

static bool seen_before(const struct pc_metrics_port *p, int upto, const char *reason)
{
	int i;

	for (i = 0; i < upto; i++)
		if (p->drops[i].reason && !strcmp(p->drops[i].reason, reason))
			return true;
	return false;
}

static void fmt_drops(struct sbuf *sb, const struct pc_metrics_input *in)
{
	int i, j;

	sb_family(sb, "portcanary_drops_total", "counter",
		  "Packets of the port the kernel dropped, by skb_drop_reason (kfree_skb).");
	for (i = 0; i < in->n_ports; i++) {
		const struct pc_metrics_port *p = &in->ports[i];

		for (j = 0; j < p->n_drops; j++) {
			const char *r = p->drops[j].reason;

			if (!r || seen_before(p, j, r))
				continue;
			sb_port_series(sb, "portcanary_drops_total", p->view, "reason", r);
			sb_u64(sb, drops_of(p, r));
			sb_putn(sb, "\n", 1);
		}
		for (j = 0; j < in->n_zero_reasons; j++) {
			const char *r = in->zero_reasons[j];
			int k;

			if (!r || seen_before(p, p->n_drops, r))
				continue;
			for (k = 0; k < j; k++)
				if (in->zero_reasons[k] && !strcmp(in->zero_reasons[k], r))
					break;
			if (k < j)
				continue;
			sb_port_series(sb, "portcanary_drops_total", p->view, "reason", r);
			sb_puts(sb, "0\n");
		}
	}
}

static void sb_label_cut(struct sbuf *sb, const char *name, const char *value);

/* portcanary_port_rule_info{proto,port,direction,family,table,chain,handle,rule} 1 */
static void fmt_rule_info(struct sbuf *sb, const struct pc_port_view *v)
{
	const char *state = view_state(v);
	char handle[24] = "";

	if (!v->rule || !v->cause || strcmp(v->cause, "netfilter_drop") ||
	    (strcmp(state, "down") && strcmp(state, "degraded")))
		return;
	if (v->rule->has_handle)
		snprintf(handle, sizeof(handle), "%" PRIu64, v->rule->handle);
	sb_port_labels(sb, "portcanary_port_rule_info", v);
	sb_label(sb, false, "family", v->rule->family);
	sb_label(sb, false, "table", v->rule->table);
	sb_label(sb, false, "chain", v->rule->chain);
	sb_label(sb, false, "handle", handle);
	sb_label_cut(sb, "rule", v->rule->text);
	sb_puts(sb, "} 1\n");
}

static void fmt_ports(struct sbuf *sb, const struct pc_metrics_input *in)
{
	size_t c;
	int i;

	sb_family(sb, "portcanary_port_up", "gauge",
		  "1 unless the port is down (ok, idle, degraded, unknown: 1; down: 0).");
	for (i = 0; i < in->n_ports; i++) {
		sb_port_series(sb, "portcanary_port_up", in->ports[i].view, NULL, NULL);
		sb_printf(sb, "%d\n", pc_metrics_port_up(view_state(in->ports[i].view)));
	}

	/* The current state only: `portcanary_port_state{state="down"} == 1` finds it, a state
	 * left goes stale at the next scrape, and a port costs one series, not five. */
	sb_family(sb, "portcanary_port_state", "gauge",
		  "Health state of the port: one series, for the current state, at 1.");
	for (i = 0; i < in->n_ports; i++) {
		sb_port_series(sb, "portcanary_port_state", in->ports[i].view, "state",
			       view_state(in->ports[i].view));
		sb_puts(sb, "1\n");
	}

	sb_family(sb, "portcanary_port_cause", "gauge",
		  "Why the port is degraded or down (1, present only while it is).");
	for (i = 0; i < in->n_ports; i++) {
		const struct pc_port_view *v = in->ports[i].view;

		if (!v->cause)
			continue;
		sb_port_series(sb, "portcanary_port_cause", v, "cause", v->cause);
		sb_puts(sb, "1\n");
	}

	sb_family(sb, "portcanary_port_rule_info", "gauge",
		  "The live nftables rule that drops the clients of a port down or degraded by "
		  "the firewall (1, present only while it is and the rule is known).");
	for (i = 0; i < in->n_ports; i++)
		fmt_rule_info(sb, in->ports[i].view);

	sb_family(sb, "portcanary_port_state_change_timestamp_seconds", "gauge",
		  "When the port entered its current state, since unix epoch in seconds.");
	for (i = 0; i < in->n_ports; i++) {
		const struct pc_port_view *v = in->ports[i].view;

		sb_port_series(sb, "portcanary_port_state_change_timestamp_seconds", v, NULL, NULL);
		/* since == 0: in this state since the daemon started. */
		sb_double(sb, v->since > 0 ? v->since : in->start_time);
		sb_puts(sb, "\n");
	}

	for (c = 0; c < sizeof(port_counters) / sizeof(port_counters[0]); c++) {
		sb_family(sb, port_counters[c].name, "counter", port_counters[c].help);
		for (i = 0; i < in->n_ports; i++) {
			sb_port_series(sb, port_counters[c].name, in->ports[i].view, NULL, NULL);
			sb_u64(sb, port_counters[c].get(in->ports[i].view));
			sb_putn(sb, "\n", 1);
		}
	}

	fmt_drops(sb, in);

	/* The answered ratio is not exported: rate(portcanary_synack_total) /
	 * rate(portcanary_syn_total) over any window derives it (the shipped recording rule
	 * port:portcanary_answered:ratio_rate1m); status shows the detector's own. The learned
	 * baseline cannot be derived, so it is here; absent (not NaN) while learning, so
	 * comparisons in rules simply find no series. */
	sb_family(sb, "portcanary_syn_baseline_per_second", "gauge",
		  "Learned request (SYN) rate of the port, per second; absent while learning.");
	for (i = 0; i < in->n_ports; i++) {
		const struct pc_port_view *v = in->ports[i].view;

		if (!isfinite(v->baseline_rate))
			continue;
		sb_port_series(sb, "portcanary_syn_baseline_per_second", v, NULL, NULL);
		sb_double(sb, v->baseline_rate);
		sb_puts(sb, "\n");
	}
}

static void fmt_global(struct sbuf *sb, const struct pc_global *g)
{
	size_t c;
	int h;

	for (c = 0; c < sizeof(global_counters) / sizeof(global_counters[0]); c++) {
		sb_family(sb, global_counters[c].name, "counter", global_counters[c].help);
		for (h = 0; h < PC_HOOK_MAX; h++) {
			const char *base = (const char *)&g[h];
			__u64 val;

			memcpy(&val, base + global_counters[c].off, sizeof(val));
			sb_printf(sb, "%s{", global_counters[c].name);
			sb_label(sb, true, "hook", hook_names[h]);
			sb_printf(sb, "} %" PRIu64 "\n", (uint64_t)val);
		}
	}
	sb_family(sb, "portcanary_datapath_foreign_netns_drops_total", "counter",
		  "Drops in other network namespaces, seen by kfree_skb and ignored.");
	sb_printf(sb, "portcanary_datapath_foreign_netns_drops_total %" PRIu64 "\n",
		  (uint64_t)g[PC_HOOK_DROP].foreign_netns);
}

static void fmt_firewall(struct sbuf *sb, const struct pc_metrics_input *in)
{
	bool have_default = false;
	int i, j;

	sb_family(sb, "portcanary_firewall_changes_total", "counter",
		  "Firewall ruleset changes seen, by source, and whether they went through "
		  "portcanary apply or rollback (vetted).");
	for (i = 0; i < in->n_fw; i++) {
		const char *src = in->fw[i].source;
		uint64_t vetted = in->fw[i].vetted;

		if (!src)
			continue;
		for (j = 0; j < i; j++)
			if (in->fw[j].source && !strcmp(in->fw[j].source, src))
				break;
		if (j < i) /* one series per source, even if the input repeats it */
			continue;
		have_default |= !strcmp(src, PC_METRICS_FW_DEFAULT_SOURCE);
		if (vetted > in->fw[i].changes)
			vetted = in->fw[i].changes;
		/* Both from the start, so increase() sees the first of each. */
		sb_puts(sb, "portcanary_firewall_changes_total{");
		sb_label(sb, true, "source", src);
		sb_printf(sb, ",vetted=\"false\"} %" PRIu64 "\n", in->fw[i].changes - vetted);
		sb_puts(sb, "portcanary_firewall_changes_total{");
		sb_label(sb, true, "source", src);
		sb_printf(sb, ",vetted=\"true\"} %" PRIu64 "\n", vetted);
	}
	/* Present from the start, so increase() sees the first change. */
	if (!have_default)
		sb_puts(sb,
			"portcanary_firewall_changes_total{source=\"" PC_METRICS_FW_DEFAULT_SOURCE
			"\",vetted=\"false\"} 0\n"
			"portcanary_firewall_changes_total{source=\"" PC_METRICS_FW_DEFAULT_SOURCE
			"\",vetted=\"true\"} 0\n");

	sb_family(sb, "portcanary_firewall_last_change_timestamp_seconds", "gauge",
		  "Time of the latest firewall ruleset change, by source, since unix epoch in "
		  "seconds.");
	for (i = 0; i < in->n_fw; i++) {
		const char *src = in->fw[i].source;

		if (!src || in->fw[i].last_change <= 0)
			continue;
		for (j = 0; j < i; j++)
			if (in->fw[j].source && !strcmp(in->fw[j].source, src))
				break;
		if (j < i)
			continue;
		sb_puts(sb, "portcanary_firewall_last_change_timestamp_seconds{");
		sb_label(sb, true, "source", src);
		sb_puts(sb, "} ");
		sb_double(sb, in->fw[i].last_change);
		sb_puts(sb, "\n");
	}
}

/* A label value cut to PC_METRICS_LABEL_MAX bytes without splitting a character. */
static void sb_label_cut(struct sbuf *sb, const char *name, const char *value)
{
	char buf[PC_METRICS_LABEL_MAX + 2]; /* the byte after the cut tells a split character */

	snprintf(buf, sizeof(buf), "%s", value ?: "");
	pc_utf8_cut(buf, PC_METRICS_LABEL_MAX);
	sb_label(sb, false, name, buf);
}

/* One series, the latest change: a bounded join target for rules ("who changed it"). */
static void fmt_fw_last(struct sbuf *sb, const struct pc_metrics_fw_last *l)
{
	sb_family(sb, "portcanary_firewall_last_change_info", "gauge",
		  "The latest firewall change: who made it and what it did (always 1).");
	if (!l)
		return;
	sb_puts(sb, "portcanary_firewall_last_change_info{");
	sb_label(sb, true, "source", l->source ?: PC_METRICS_FW_DEFAULT_SOURCE);
	sb_printf(sb, ",generation=\"%u\"", l->generation);
	sb_label(sb, false, "vetted", l->vetted ? "true" : "false");
	sb_label_cut(sb, "command", l->command);
	sb_label_cut(sb, "user", l->user);
	sb_label_cut(sb, "unit", l->unit);
	sb_label_cut(sb, "summary", l->summary);
	sb_puts(sb, "} 1\n");
}

char *pc_metrics_format(const struct pc_metrics_input *in)
{
	struct sbuf sb = {0};

	fmt_meta(&sb, in);
	fmt_ports(&sb, in);
	if (in->global)
		fmt_global(&sb, in->global);
	fmt_firewall(&sb, in);
	fmt_fw_last(&sb, in->fw_last);
	if (in->rollbacks) {
		sb_family(&sb, "portcanary_firewall_rollbacks_total", "counter",
			  "Rulesets the daemon restored, by reason: a port down or degraded by the "
			  "firewall, a change that blocks a monitored port, or on request.");
		sb_printf(&sb,
			  "portcanary_firewall_rollbacks_total{reason=\"port_down\"} %" PRIu64 "\n"
			  "portcanary_firewall_rollbacks_total{reason=\"firewall_blocks_port\"} "
			  "%" PRIu64 "\n"
			  "portcanary_firewall_rollbacks_total{reason=\"requested\"} %" PRIu64 "\n",
			  in->rollbacks->port_down, in->rollbacks->firewall_blocks_port,
			  in->rollbacks->requested);
	}
	if (sb.oom) {
		free(sb.p);
		return NULL;
	}
	return sb.p;
}
