// SPDX-License-Identifier: GPL-2.0
/* cli_stream.c: `apply` and `firewall rollback` show what the daemon does as it does it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cli.h"
#include "control.h"
#include "log.h"
#include "jsonutil.h"

/* The daemon answers within this; it sends a line every second while it works. */
#define STREAM_TIMEOUT_S 20.0

struct stream {
	FILE *out; /* progress: stdout, or stderr with --json */
	bool tty;
	bool ticking; /* a "\r  N s left" line is open */
	bool applied;
	double seconds;
	struct json_object *final; /* --json: the result, with what came before it */
};

static void end_tick(struct stream *s)
{
	if (s->ticking)
		fputc('\n', s->out);
	s->ticking = false;
}

static void port_name(struct json_object *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s:%s", pc_json_str(p, "proto", "?"), pc_json_str(p, "port", "?"),
		 pc_json_str(p, "direction", "?"));
}

static void rule_line(struct json_object *r, char *buf, size_t len)
{
	struct json_object *h;

	if (!r) {
		snprintf(buf, len, "(rule not known)");
		return;
	}
	if (json_object_object_get_ex(r, "handle", &h) && h)
		snprintf(buf, len, "%s %s %s handle %s: %s", pc_json_str(r, "family", "?"),
			 pc_json_str(r, "table", "?"), pc_json_str(r, "chain", "?"),
			 json_object_get_string(h), pc_json_str(r, "text", ""));
	else
		snprintf(buf, len, "%s %s %s: %s", pc_json_str(r, "family", "?"),
			 pc_json_str(r, "table", "?"), pc_json_str(r, "chain", "?"),
			 pc_json_str(r, "text", ""));
}

static void show_preflight(struct stream *s, struct json_object *pf)
{
	struct json_object *ports, *p, *rule;
	char name[64], rl[700];
	size_t i;

	if (!pf || !json_object_object_get_ex(pf, "ports", &ports))
		return;
	for (i = 0; i < json_object_array_length(ports); i++) {
		p = json_object_array_get_idx(ports, i);
		port_name(p, name, sizeof(name));
		if (!strcmp(pc_json_str(p, "verdict", ""), "blocked")) {
			json_object_object_get_ex(p, "rule", &rule);
			rule_line(rule, rl, sizeof(rl));
			fprintf(s->out, "  %-16s BLOCKED from %s: %s\n", name,
				pc_json_str(p, "from", "the sandbox"), rl);
		} else {
			fprintf(s->out, "  %-16s %s%s\n", name,
				pc_json_str(p, "already_blocked", "false")[0] == 't'
					? "blocked already"
					: "reachable",
				"");
		}
	}
	if (pc_json_int(pf, "newly_blocked", 0))
		fprintf(s->out, "preflight: %lld monitored port%s newly blocked\n",
			(long long)pc_json_int(pf, "newly_blocked", 0),
			pc_json_int(pf, "newly_blocked", 0) == 1 ? "" : "s");
	else
		fprintf(s->out, "preflight: no monitored port newly blocked\n");
	if (pc_json_str(pf, "error", NULL))
		fprintf(s->out, "preflight: %s\n", pc_json_str(pf, "error", ""));
}

static void show_groups(struct stream *s, struct json_object *o)
{
	struct json_object *g, *e;
	size_t i;

	fprintf(s->out, "preflight: trying it on %lld monitored port%s",
		(long long)pc_json_int(o, "ports", 0), pc_json_int(o, "ports", 0) == 1 ? "" : "s");
	if (json_object_object_get_ex(o, "groups", &g))
		for (i = 0; i < json_object_array_length(g); i++) {
			e = json_object_array_get_idx(g, i);
			if (pc_json_str(e, "from", NULL))
				fprintf(s->out, "%s from %s to %s (%lld)", i ? "," : ":",
					pc_json_str(e, "from", ""), pc_json_str(e, "to", "?"),
					(long long)pc_json_int(e, "ports", 0));
			else
				fprintf(s->out, "%s from the sandbox's addresses (%lld)",
					i ? "," : ":", (long long)pc_json_int(e, "ports", 0));
		}
	fprintf(s->out, "\n");
}

static void show_entries(FILE *out, struct json_object *arr, const char *sign, int max)
{
	size_t i, n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n && (int)i < max; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *h;

		if (json_object_object_get_ex(e, "handle", &h) && h)
			fprintf(out, "    %s %s %s %s handle %s: %s\n", sign,
				pc_json_str(e, "family", ""), pc_json_str(e, "table", ""),
				pc_json_str(e, "chain", ""), json_object_get_string(h),
				pc_json_str(e, "text", ""));
		else
			fprintf(out, "    %s %s\n", sign, pc_json_str(e, "text", ""));
	}
	if (n > (size_t)max)
		fprintf(out, "    ... and %zu more\n", n - max);
}

/* The result: what a person needs to read, and the exit code. */
static int show_result(struct stream *s, struct json_object *o)
{
	const char *outcome = pc_json_str(o, "outcome", "error");
	struct json_object *port, *arr, *rule;
	char name[64], rl[700];
	size_t i;

	end_tick(s);
	if (!strcmp(outcome, "kept")) {
		fprintf(s->out, "KEPT: generation %lld, no monitored port hurt in %.0f s\n",
			(long long)pc_json_int(o, "generation", 0), s->seconds);
	} else if (!strcmp(outcome, "refused")) {
		fprintf(s->out, "REFUSED: nothing was changed; it blocks:\n");
		if (json_object_object_get_ex(o, "blocked", &arr))
			for (i = 0; i < json_object_array_length(arr); i++)
				fprintf(s->out, "  %s\n",
					json_object_get_string(json_object_array_get_idx(arr, i)));
		fprintf(s->out, "(--force goes ahead all the same)\n");
	} else if (!strcmp(outcome, "rolled_back") && s->applied) {
		fprintf(s->out, "ROLLED BACK");
		if (json_object_object_get_ex(o, "port", &port) && port) {
			port_name(port, name, sizeof(name));
			fprintf(s->out, ": %s %s (%s)", name,
				!strcmp(pc_json_str(port, "event", ""), "firewall_blocks_port")
					? "is blocked by the change"
				: !strcmp(pc_json_str(port, "state", ""), "degraded")
					? "went degraded"
					: "went down",
				pc_json_str(port, "cause", "?"));
			if (*pc_json_str(port, "detail", ""))
				fprintf(s->out, ": %s", pc_json_str(port, "detail", ""));
			if (json_object_object_get_ex(port, "rule", &rule) && rule) {
				rule_line(rule, rl, sizeof(rl));
				fprintf(s->out, "; rule %s", rl);
			}
		} else {
			fprintf(s->out, " on request");
		}
		fprintf(s->out,
			"\n  the ruleset of generation %lld is live again, as generation "
			"%lld (one transaction)\n",
			(long long)pc_json_int(o, "restored_generation", 0),
			(long long)pc_json_int(o, "to_generation", 0));
		if (json_object_object_get_ex(o, "change_added", &arr) &&
		    json_object_array_length(arr)) {
			fprintf(s->out, "  the change had added:\n");
			show_entries(s->out, arr, "+", 5);
		}
	} else if (!strcmp(outcome, "rolled_back")) {
		fprintf(s->out,
			"ROLLED BACK: generation %lld undone; the ruleset from before it is live "
			"as generation %lld (one transaction)\n",
			(long long)pc_json_int(o, "undid_generation", 0),
			(long long)pc_json_int(o, "to_generation", 0));
	} else if (!strcmp(outcome, "unchanged")) {
		fprintf(s->out, "nothing to do: the ruleset is already as it was\n");
	} else {
		pc_err("%s", pc_json_str(o, "error", "the daemon gave up (see its log)"));
	}
	return (int)pc_json_int(o, "exit", 0);
}

static int on_line(struct stream *s, struct json_object *o)
{
	const char *st = pc_json_str(o, "step", "");
	struct json_object *v, *arr;
	size_t i;

	if (!strcmp(st, "tick")) {
		if (strcmp(pc_json_str(o, "state", ""), "watching"))
			return -1;
		if (s->tty) {
			fprintf(s->out, "\r  %3lld s left ", (long long)pc_json_int(o, "left", 0));
			s->ticking = true;
		} else if (pc_json_int(o, "left", 0) % 10 == 0) {
			fprintf(s->out, "  %lld s left\n", (long long)pc_json_int(o, "left", 0));
		}
		fflush(s->out);
		return -1;
	}
	end_tick(s);
	if (!strcmp(st, "received")) {
		fprintf(s->out, "sent %lld bytes to the daemon\n",
			(long long)pc_json_int(o, "bytes", 0));
	} else if (!strcmp(st, "loads")) {
		fprintf(s->out, "it loads (nft -c against the live ruleset)\n");
	} else if (!strcmp(st, "rollback")) {
		struct json_object *undo = json_object_object_get_ex(o, "undo", &v) ? v : NULL;

		fprintf(s->out, "rolling back generation %lld (%s) to the ruleset from before it\n",
			(long long)pc_json_int(undo, "generation", 0),
			pc_json_str(undo, "summary", "?"));
	} else if (!strcmp(st, "preflight")) {
		show_groups(s, o);
	} else if (!strcmp(st, "preflight_done")) {
		show_preflight(s, json_object_object_get_ex(o, "preflight", &v) ? v : NULL);
	} else if (!strcmp(st, "applied")) {
		s->applied = true;
		fprintf(s->out, "applied: generation %lld (was %lld), in one transaction\n",
			(long long)pc_json_int(o, "generation", 0),
			(long long)pc_json_int(o, "previous_generation", 0));
	} else if (!strcmp(st, "watching")) {
		s->seconds =
			json_object_object_get_ex(o, "seconds", &v) ? json_object_get_double(v) : 0;
		fprintf(s->out,
			"watching for %.0f s (the daemon keeps watching if this command "
			"dies):",
			s->seconds);
		if (json_object_object_get_ex(o, "ports", &arr))
			for (i = 0; i < json_object_array_length(arr); i++) {
				char name[64];

				port_name(json_object_array_get_idx(arr, i), name, sizeof(name));
				fprintf(s->out, " %s", name);
			}
		fprintf(s->out, "\n");
	} else if (!strcmp(st, "waiting")) {
		fprintf(s->out, "  %s: waiting for it\n", pc_json_str(o, "why", ""));
	} else if (!strcmp(st, "foreign_change")) {
		struct json_object *c = json_object_object_get_ex(o, "change", &v) ? v : NULL, *by;
		const char *cmd =
			c && json_object_object_get_ex(c, "by", &by) && by
				? pc_json_str(by, "command", NULL) ?: pc_json_str(by, "comm", "?")
				: "?";

		fprintf(s->out,
			"WARNING: generation %lld by %s changed the ruleset during the window "
			"(%s): "
			"a rollback now undoes it too\n",
			(long long)pc_json_int(c, "generation", 0), cmd,
			pc_json_str(c, "summary", "?"));
	} else if (!strcmp(st, "result")) {
		return show_result(s, o);
	}
	fflush(s->out);
	return -1;
}

int pc_cli_stream(const char *dir, const char *header, const char *body, size_t len, bool json)
{
	struct pc_line_reader *r = calloc(1, sizeof(*r));
	struct stream s = {.out = json ? stderr : stdout};
	int fd, ret = PC_EXIT_USAGE, err, send_err = 0;
	char *line;

	if (!r)
		return PC_EXIT_USAGE;
	s.tty = isatty(fileno(s.out));
	fd = pc_control_connect(dir, STREAM_TIMEOUT_S);
	if (fd < 0) {
		pc_control_explain(dir, -fd);
		free(r);
		return PC_EXIT_USAGE;
	}
	/* A daemon that refuses the request (not root, busy) answers after the header and
	 * closes: the body may then not go out, but its answer is there to read. */
	if (send(fd, header, strlen(header), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0 ||
	    (len && send(fd, body, len, MSG_NOSIGNAL) < (ssize_t)len))
		send_err = errno ?: EPIPE;
	for (;;) {
		struct json_object *o;
		int rc;

		err = pc_control_read_line(r, fd, &line);
		if (err && send_err) {
			pc_err("cannot send the request to the daemon in %s: %s", dir,
			       strerror(send_err));
			break;
		}
		if (err) {
			end_tick(&s);
			pc_err("the connection to the daemon was lost (%s)%s", strerror(-err),
			       s.applied ? ": the change is in, and the daemon owns the watch and "
					   "any "
					   "rollback; see `portcanary firewall history`"
					 : "");
			break;
		}
		o = json_tokener_parse(line);
		if (!o)
			continue;
		rc = on_line(&s, o);
		if (rc >= 0) {
			ret = rc;
			if (json)
				printf("%s\n", json_object_to_json_string_ext(
						       o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_SPACED));
			json_object_put(o);
			break;
		}
		json_object_put(o);
	}
	close(fd);
	free(r);
	return ret;
}
