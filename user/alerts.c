// SPDX-License-Identifier: GPL-2.0
/* alerts.c: events as a log line, as JSON lines and through a non-blocking exec hook. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alerts.h"
#include "detector.h"
#include "firewall/who.h"
#include "log.h"
#include "portspec.h"
#include "report.h"
#include "spawn.h"

static struct json_object *firewall_json(const struct pc_firewall_ref *fwr)
{
	struct json_object *f;
	char ts[40];

	if (!fwr)
		return NULL;
	f = json_object_new_object();
	pc_format_time(fwr->time, ts, sizeof(ts));
	json_object_object_add(f, "time", json_object_new_string(ts));
	json_object_object_add(f, "seconds_before", pc_json_num(fwr->seconds_before));
	json_object_object_add(f, "source", json_object_new_string(fwr->source));
	if (fwr->what)
		json_object_object_add(f, "what", json_object_new_string(fwr->what));
	if (fwr->generation)
		json_object_object_add(f, "generation", json_object_new_int64(fwr->generation));
	if (fwr->by) {
		json_object_object_add(f, "by", pc_who_json(fwr->by));
		json_object_object_add(f, "vetted", json_object_new_boolean(fwr->vetted));
	}
	if (fwr->summary)
		json_object_object_add(f, "summary", json_object_new_string(fwr->summary));
	return f;
}

/* " (generation 4, by nft -f x (pid 9, user root uid 0): added rule ...)" */
static void fw_who_summary(const struct pc_firewall_ref *f, char *buf, size_t len)
{
	char who[600];
	size_t n;

	if (!f->by && !f->summary)
		return;
	n = snprintf(buf, len, " (generation %u", f->generation);
	if (f->by && n < len) {
		pc_who_line(f->by, who, sizeof(who));
		n += snprintf(buf + n, len - n, ", by %s", who);
	}
	if (f->summary && n < len)
		n += snprintf(buf + n, len - n, ": %s", f->summary);
	if (n < len)
		snprintf(buf + n, len - n, ")");
}

struct json_object *pc_fw_block_json(const struct pc_fw_block_alert *b)
{
	struct json_object *o = json_object_new_object(), *r = NULL;
	char ts[40];

	pc_format_time(b->time, ts, sizeof(ts));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "event", json_object_new_string("firewall_blocks_port"));
	json_object_object_add(o, "proto", json_object_new_string(pc_proto_name(b->proto)));
	json_object_object_add(o, "port", json_object_new_int(b->port));
	json_object_object_add(o, "direction", json_object_new_string(pc_dir_name(b->dir)));
	if (b->rule_known)
		r = pc_rule_view_json(&(struct pc_rule_view){.family = b->family,
							     .table = b->table,
							     .chain = b->chain,
							     .has_handle = b->has_handle,
							     .handle = b->handle,
							     .text = b->text});
	json_object_object_add(o, "rule", r);
	json_object_object_add(o, "firewall_change", firewall_json(b->firewall));
	return o;
}

void pc_fw_block_line(const struct pc_fw_block_alert *b, char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "%s/%u:%s BLOCKED BY FIREWALL CHANGE",
			    pc_proto_name(b->proto), b->port, pc_dir_name(b->dir));

	if (b->rule_known && n < len)
		n += snprintf(buf + n, len - n, ": rule '%s' in %s %s chain %s", b->text ?: "",
			      b->family ?: "", b->table ?: "", b->chain ?: "");
	if (b->has_handle && n < len)
		n += snprintf(buf + n, len - n, " (handle %llu)", (unsigned long long)b->handle);
	if (b->firewall && n < len)
		n += snprintf(buf + n, len - n, "; the ruleset changed %.1f s before%s%s",
			      b->firewall->seconds_before, b->firewall->what ? ": " : "",
			      b->firewall->what ?: "");
	if (b->firewall && n < len)
		fw_who_summary(b->firewall, buf + n, len - n);
}

struct json_object *pc_alert_json(const struct pc_alert *a)
{
	struct json_object *o = json_object_new_object();
	struct json_object *drops = json_object_new_object();
	char ts[40];
	int i;

	pc_format_time(a->time, ts, sizeof(ts));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "event", json_object_new_string(a->event));
	json_object_object_add(o, "proto", json_object_new_string(pc_proto_name(a->proto)));
	json_object_object_add(o, "port", json_object_new_int(a->port));
	json_object_object_add(o, "direction", json_object_new_string(pc_dir_name(a->dir)));
	json_object_object_add(o, "state", json_object_new_string(a->state));
	json_object_object_add(o, "previous_state", json_object_new_string(a->old_state));
	json_object_object_add(o, "previous_state_seconds", pc_json_num(a->old_state_s));
	json_object_object_add(o, "cause", a->cause ? json_object_new_string(a->cause) : NULL);
	json_object_object_add(o, "detail", json_object_new_string(a->detail ? a->detail : ""));
	json_object_object_add(o, "syn_rate", pc_json_num(a->syn_rate));
	json_object_object_add(o, "baseline_rate", pc_json_num(a->baseline_rate));
	json_object_object_add(o, "answered_ratio", pc_json_num(a->answered_ratio));
	for (i = 0; i < a->n_drops && i < PC_ALERT_MAX_DROPS; i++)
		json_object_object_add(drops, a->drops[i].reason,
				       json_object_new_uint64(a->drops[i].count));
	json_object_object_add(o, "drops", drops);
	json_object_object_add(o, "firewall_change", firewall_json(a->firewall));
	if (a->has_rule) {
		json_object_object_add(o, "rule", pc_rule_view_json(a->rule));
		if (!a->rule && a->rule_note)
			json_object_object_add(o, "rule_note",
					       json_object_new_string(a->rule_note));
	}
	return o;
}

void pc_alert_line(const struct pc_alert *a, char *buf, size_t len)
{
	const struct pc_det_words *w = pc_det_words(a->proto == PC_PROTO_UDP);
	size_t n;
	int i;

	n = snprintf(buf, len, "%s/%u:%s %s", pc_proto_name(a->proto), a->port, pc_dir_name(a->dir),
		     !strcmp(a->event, "port_recovered") ? "RECOVERED"
		     : !strcmp(a->event, "port_down")	 ? "DOWN"
							 : "DEGRADED");
	if (a->cause && n < len)
		n += snprintf(buf + n, len - n, " (%s%s)",
			      !strcmp(a->event, "port_recovered") ? "was " : "", a->cause);
	if (a->detail && *a->detail && n < len)
		n += snprintf(buf + n, len - n, ": %s", a->detail);
	if (n < len)
		n += snprintf(buf + n, len - n, "; %s %.1f/s", w->label,
			      isfinite(a->syn_rate) ? a->syn_rate : 0);
	if (isfinite(a->baseline_rate) && n < len)
		n += snprintf(buf + n, len - n, " (baseline %.1f/s)", a->baseline_rate);
	if (isfinite(a->answered_ratio) && n < len)
		n += snprintf(buf + n, len - n, ", %s %.0f%%", w->answered,
			      a->answered_ratio * 100);
	for (i = 0; i < a->n_drops && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s=%llu", i ? ", " : "; drops ",
			      a->drops[i].reason, (unsigned long long)a->drops[i].count);
	if (a->firewall && n < len)
		n += snprintf(buf + n, len - n, "; firewall (%s) changed %.1f s before%s%s",
			      a->firewall->source, a->firewall->seconds_before,
			      a->firewall->what ? ": " : "",
			      a->firewall->what ? a->firewall->what : "");
	if (a->firewall && n < len)
		fw_who_summary(a->firewall, buf + n, len - n);
	n = strlen(buf);
	if (a->has_rule && a->rule && n < len) {
		char rl[700];

		pc_rule_view_line(a->rule, rl, sizeof(rl));
		snprintf(buf + n, len - n, "; dropped by %s", rl);
	} else if (a->has_rule && n < len) {
		snprintf(buf + n, len - n, "; rule unknown: %s", a->rule_note ?: "not found");
	}
}

int pc_alerts_open(struct pc_alerts *al, const char *events_path, const char *exec_cmd)
{
	memset(al, 0, sizeof(*al));
	al->exec_cmd = exec_cmd;
	if (!events_path)
		return 0;
	if (!strcmp(events_path, "-")) {
		al->events = stdout;
		al->events_is_stdout = true;
		return 0;
	}
	al->events = fopen(events_path, "ae");
	if (!al->events) {
		int err = -errno;

		pc_err("cannot open the events file %s: %s", events_path, strerror(errno));
		return err;
	}
	setvbuf(al->events, NULL, _IOLBF, 0);
	return 0;
}

static void setenv_num(const char *name, double v, const char *fmt)
{
	char buf[64];

	if (!isfinite(v))
		return;
	snprintf(buf, sizeof(buf), fmt, v);
	setenv(name, buf, 1);
}

/* Child side of the hook: the event in the environment, the JSON on stdin. */
static void exec_hook(const char *cmd, const struct pc_alert *a, int stdin_fd)
{
	char port[8];

	dup2(stdin_fd, STDIN_FILENO);
	close(stdin_fd);
	snprintf(port, sizeof(port), "%u", a->port);
	setenv("PORTCANARY_EVENT", a->event, 1);
	setenv("PORTCANARY_PROTO", pc_proto_name(a->proto), 1);
	setenv("PORTCANARY_PORT", port, 1);
	setenv("PORTCANARY_DIRECTION", pc_dir_name(a->dir), 1);
	setenv("PORTCANARY_STATE", a->state, 1);
	setenv("PORTCANARY_CAUSE", a->cause ? a->cause : "", 1);
	setenv("PORTCANARY_DETAIL", a->detail ? a->detail : "", 1);
	setenv_num("PORTCANARY_SYN_RATE", a->syn_rate, "%.3f");
	setenv_num("PORTCANARY_BASELINE_RATE", a->baseline_rate, "%.3f");
	setenv_num("PORTCANARY_ANSWERED_RATIO", a->answered_ratio, "%.3f");
	if (a->rule) {
		char rl[700];

		pc_rule_view_line(a->rule, rl, sizeof(rl));
		setenv("PORTCANARY_RULE", rl, 1);
	}
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Child side of the hook of an event about no single port: env given by the caller. */
static void exec_hook_env(const char *cmd, const char *const *env, int stdin_fd)
{
	dup2(stdin_fd, STDIN_FILENO);
	close(stdin_fd);
	for (; env && *env; env++)
		putenv((char *)*env); /* the child's own copy of the strings: it execs next */
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

static void start_hook(struct pc_alerts *al, const struct pc_alert *a, const char *const *env,
		       const char *json, double now)
{
	struct pc_alert_hook *slot = NULL;
	int p[2], i;
	pid_t pid;

	for (i = 0; i < PC_ALERT_MAX_HOOKS; i++)
		if (!al->hooks[i].pid)
			slot = &al->hooks[i];
	if (!slot) {
		al->hooks_skipped++;
		pc_warn("--exec hook skipped: %d hooks still running", PC_ALERT_MAX_HOOKS);
		return;
	}
	if (pipe2(p, O_CLOEXEC)) {
		pc_warn("--exec hook: pipe: %s", strerror(errno));
		return;
	}
	pid = pc_fork_child();
	if (pid == 0) {
		close(p[1]);
		if (a)
			exec_hook(al->exec_cmd, a, p[0]);
		exec_hook_env(al->exec_cmd, env, p[0]);
	}
	close(p[0]);
	if (pid < 0) {
		pc_warn("--exec hook: fork: %s", strerror(errno));
		close(p[1]);
		return;
	}
	/* An event is far smaller than a pipe buffer: this write does not block, and a
	 * hook that never reads stdin cannot hold us (non-blocking, then closed). */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (write(p[1], json, strlen(json)) < 0 || write(p[1], "\n", 1) < 0)
		pc_debug("--exec hook did not take its stdin: %s", strerror(errno));
	close(p[1]);
	slot->pid = pid;
	slot->started = now;
	slot->term_sent = false;
}

void pc_alerts_emit(struct pc_alerts *al, const struct pc_alert *a, double now)
{
	struct json_object *o = pc_alert_json(a);
	const char *json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	char line[2048];

	pc_alert_line(a, line, sizeof(line));
	pc_log(!strcmp(a->event, "port_recovered") ? PC_LOG_INFO : PC_LOG_WARN, "%s", line);
	if (al->events) {
		fprintf(al->events, "%s\n", json);
		fflush(al->events);
	}
	if (al->exec_cmd)
		start_hook(al, a, NULL, json, now);
	al->emitted++;
	json_object_put(o);
	if (al->observer)
		al->observer(al->observer_ctx, a, NULL, now);
}

void pc_alerts_emit_block(struct pc_alerts *al, const struct pc_fw_block_alert *b, double now)
{
	struct json_object *o = pc_fw_block_json(b);
	const char *json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	struct pc_alert env = {
		.event = "firewall_blocks_port",
		.proto = b->proto,
		.dir = b->dir,
		.port = b->port,
		.state = "",
		.cause = "netfilter_drop",
		.detail = b->text,
		.syn_rate = NAN,
		.baseline_rate = NAN,
		.answered_ratio = NAN,
	};
	char line[1024];

	pc_fw_block_line(b, line, sizeof(line));
	pc_log(PC_LOG_WARN, "%s", line);
	if (al->events) {
		fprintf(al->events, "%s\n", json);
		fflush(al->events);
	}
	if (al->exec_cmd)
		start_hook(al, &env, NULL, json, now);
	al->emitted++;
	json_object_put(o);
	if (al->observer)
		al->observer(al->observer_ctx, NULL, b, now);
}

void pc_alerts_emit_event(struct pc_alerts *al, int level, const char *line, struct json_object *o,
			  const char *const *env, double now)
{
	const char *json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	pc_log(level, "%s", line);
	if (al->events) {
		fprintf(al->events, "%s\n", json);
		fflush(al->events);
	}
	if (al->exec_cmd)
		start_hook(al, NULL, env, json, now);
	al->emitted++;
}

void pc_alerts_reap(struct pc_alerts *al, double now)
{
	int i, status;

	for (i = 0; i < PC_ALERT_MAX_HOOKS; i++) {
		struct pc_alert_hook *h = &al->hooks[i];
		pid_t r;

		if (!h->pid)
			continue;
		r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid || (r < 0 && errno == ECHILD)) {
			if (r == h->pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
				al->hooks_failed++;
				if (WIFEXITED(status))
					pc_warn("--exec hook exited with status %d",
						WEXITSTATUS(status));
				else if (!h->term_sent)
					pc_warn("--exec hook killed by signal %d",
						WTERMSIG(status));
			}
			h->pid = 0;
			continue;
		}
		if (now - h->started > PC_ALERT_HOOK_TIMEOUT_S + 5) {
			kill(h->pid, SIGKILL);
		} else if (now - h->started > PC_ALERT_HOOK_TIMEOUT_S && !h->term_sent) {
			pc_warn("--exec hook still running after %.0f s: terminating it",
				PC_ALERT_HOOK_TIMEOUT_S);
			kill(h->pid, SIGTERM);
			h->term_sent = true;
		}
	}
}

void pc_alerts_close(struct pc_alerts *al)
{
	int i;

	for (i = 0; i < PC_ALERT_MAX_HOOKS; i++)
		if (al->hooks[i].pid)
			waitpid(al->hooks[i].pid, NULL, WNOHANG);
	if (al->events && !al->events_is_stdout)
		fclose(al->events);
	al->events = NULL;
}
