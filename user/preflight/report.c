// SPDX-License-Identifier: GPL-2.0
/* report.c: the preflight result as the contract's JSON object and as a readable table. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "portcanary.h"
#include "preflight/preflight.h"
#include "jsonutil.h"

const char *pc_failure_name(enum pc_failure f)
{
	switch (f) {
	case PC_FAIL_NONE:
		return "none";
	case PC_FAIL_TIMEOUT:
		return "timeout";
	case PC_FAIL_REFUSED:
		return "refused";
	case PC_FAIL_UNREACH:
		return "unreachable";
	case PC_FAIL_LOCAL:
		return "send_refused";
	default:
		return "error";
	}
}

/* With a baseline only the ports the candidate newly blocks are reported. */
static bool reported(const struct pc_preflight_result *r, const struct pc_preflight_port *p)
{
	if (!r->has_baseline)
		return true;
	return p->verdict == PC_VERDICT_BLOCKED && p->baseline_verdict == PC_VERDICT_REACHABLE;
}

struct json_object *pc_rule_ref_json(const struct pc_rule_ref *rule)
{
	struct json_object *o;

	if (!rule->known)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "family", pc_json_str_or_null(rule->family));
	json_object_object_add(o, "table", pc_json_str_or_null(rule->table));
	json_object_object_add(o, "chain", pc_json_str_or_null(rule->chain));
	json_object_object_add(o, "handle",
			       rule->has_handle ? json_object_new_int64((int64_t)rule->handle)
						: NULL);
	json_object_object_add(o, "text", pc_json_str_or_null(rule->text));
	return o;
}

struct json_object *pc_preflight_json(const struct pc_preflight_result *r, const char *ruleset,
				      const char *baseline)
{
	struct json_object *doc = json_object_new_object(), *ports = json_object_new_array();
	int i;

	json_object_object_add(doc, "ruleset", pc_json_str_or_null(ruleset));
	if (r->has_baseline)
		json_object_object_add(doc, "baseline", pc_json_str_or_null(baseline));
	for (i = 0; i < r->nports; i++) {
		const struct pc_preflight_port *p = &r->ports[i];
		struct json_object *o, *ev = NULL;
		bool blocked = p->verdict == PC_VERDICT_BLOCKED;

		if (!reported(r, p))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "proto", json_object_new_string(pc_proto_name(p->proto)));
		json_object_object_add(o, "port", json_object_new_int(p->port));
		json_object_object_add(o, "direction", json_object_new_string(pc_dir_name(p->dir)));
		json_object_object_add(o, "verdict",
				       json_object_new_string(blocked ? "blocked" : "reachable"));
		if (blocked) {
			ev = json_object_new_object();
			json_object_object_add(ev, "drop_reason",
					       pc_json_str_or_null(p->drop_reason));
			json_object_object_add(ev, "rule", pc_rule_ref_json(&p->rule));
		}
		json_object_object_add(o, "evidence", ev);
		json_object_object_add(o, "failure",
				       blocked ? json_object_new_string(pc_failure_name(p->failure))
					       : NULL);
		json_object_array_add(ports, o);
	}
	json_object_object_add(doc, "ports", ports);
	json_object_object_add(doc, "blocked", json_object_new_int(r->blocked));
	if (r->has_baseline)
		json_object_object_add(doc, "already_blocked",
				       json_object_new_int(r->baseline_blocked));
	return doc;
}

static void rule_line(const struct pc_rule_ref *rule, char *buf, size_t len)
{
	char h[32] = "";

	if (!rule->known) {
		snprintf(buf, len, "-");
		return;
	}
	if (rule->has_handle)
		snprintf(h, sizeof(h), " handle %" PRIu64, rule->handle);
	snprintf(buf, len, "%s %s %s%s: %s", rule->family, rule->table, rule->chain, h,
		 rule->text[0] ? rule->text : "?");
}

void pc_preflight_table(FILE *out, const struct pc_preflight_result *r, const char *ruleset,
			const char *baseline)
{
	char spec[48], rl[700];
	int i, shown = 0;

	fprintf(out, "preflight of %s", ruleset);
	if (r->has_baseline)
		fprintf(out, " against baseline %s", baseline);
	fprintf(out, " (client %s, server %s)\n", r->from, r->to);
	for (i = 0; i < r->nports; i++) {
		const struct pc_preflight_port *p = &r->ports[i];
		struct pc_portspec s = {
			.proto = p->proto, .dir = p->dir, .first = p->port, .last = p->port};
		bool blocked = p->verdict == PC_VERDICT_BLOCKED;

		if (!reported(r, p))
			continue;
		if (!shown++)
			fprintf(out, "%-18s %-10s %-12s %-22s %s\n", "PORT", "VERDICT", "FAILURE",
				"DROP REASON", "RULE");
		pc_portspec_format(&s, spec, sizeof(spec));
		if (!blocked) {
			fprintf(out, "%-18s reachable\n", spec);
			continue;
		}
		rule_line(&p->rule, rl, sizeof(rl));
		fprintf(out, "%-18s %-10s %-12s %-22s %s\n", spec, "BLOCKED",
			pc_failure_name(p->failure), p->drop_reason[0] ? p->drop_reason : "-", rl);
	}
	if (r->has_baseline)
		fprintf(out, "%d of %d ports newly blocked; %d already blocked by the baseline\n",
			r->blocked, r->nports, r->baseline_blocked);
	else
		fprintf(out, "%d of %d ports blocked\n", r->blocked, r->nports);
	if (!r->bpf_evidence && r->blocked)
		fprintf(out,
			"(drop reasons unavailable: the kfree_skb tracer could not be loaded)\n");
}
