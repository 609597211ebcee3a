// SPDX-License-Identifier: GPL-2.0
/* daemon.c: the main loop of `portcanary run`: signals, sampling timer, control socket. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "alerts.h"
#include "clients.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "detector.h"
#include "dropreason.h"
#include "drops.h"
#include "exporter.h"
#include "firewall/changes.h"
#include "firewall/check.h"
#include "firewall/liverule.h"
#include "firewall/manage.h"
#include "firewall/watch.h"
#include "health.h"
#include "metrics.h"
#include "log.h"
#include "netinfo.h"
#include "portset.h"
#include "privs.h"
#include "report.h"
#include "sampler.h"

/* How often the listener set is re-read when ports come from the host's listeners. */
#define PC_LISTENER_REFRESH_S 5.0
/* Firewall changes `status` shows. */
#define PC_STATUS_FW_CHANGES 5

struct pc_daemon {
	struct pc_run_opts *opts; /* in force; SIGHUP replaces it */
	struct pc_sampling_stats sampling;
	struct pc_loader ld;
	struct pc_portset ps;
	struct pc_sampler sampler;
	struct pc_dropreasons *reasons; /* names of this kernel's drop reasons (BTF) */
	struct pc_drop_table droptab;	/* the drop tracer's counts, mapped */
	struct pc_drops drops;
	struct pc_health health;
	struct pc_alerts alerts;
	struct pc_fwwatch fw;
	struct pc_fwcheck fwcheck; /* each new ruleset tested in a sandbox */
	bool fwcheck_on;
	struct pc_fw_changes changes; /* who changed the firewall, and what changed */
	bool changes_on;
	/* A change that came while a check ran: handed over when it ends, so the running
	 * check's blocks are not blamed on the later change. */
	struct pc_fw_change fwcheck_next;
	bool fwcheck_next_set;
	struct pc_clients clients; /* recent working clients per port (connection sampler) */
	struct pc_fw_manager fwm;  /* apply, history, rollback, reverts */
	bool fwm_on;
	struct pc_liverule liverule; /* the live rule that drops a port's clients */
	bool liverule_on;
	struct pc_exporter *exporter; /* --listen, or NULL */
	bool auto_ports;
	double started;
	double last_listener_scan;
	int ctl_fd;
	int sig_fd;
	int timer_fd;
	struct pc_port_view views[PC_MAX_SLOTS];
	int n_views;
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int apply_ports(struct pc_daemon *d)
{
	static struct pc_portspec listeners[PC_MAX_SLOTS];
	const struct pc_portspec *specs = d->opts->specs;
	int n = d->opts->n_specs, before = d->ps.nused;
	int err;

	if (d->auto_ports) {
		n = pc_tcp_listeners(listeners, PC_MAX_SLOTS - 1);
		if (n < 0) {
			pc_warn("cannot read the host's TCP listeners: %s", strerror(-n));
			return n;
		}
		specs = listeners;
	}
	err = pc_portset_apply(&d->ps, specs, n);
	if (!err && d->ps.nused != before)
		pc_info("monitoring %d port%s", d->ps.nused, d->ps.nused == 1 ? "" : "s");
	return err;
}

static void publish_metrics(struct pc_daemon *d);

/* The drops by port and reason, or NULL where the drop tracer is not attached. */
static const struct pc_drops *attributed_drops(const struct pc_daemon *d)
{
	return d->drops.t ? &d->drops : NULL;
}

static void sample(struct pc_daemon *d)
{
	double now = pc_mono_now();

	if (d->auto_ports && now - d->last_listener_scan >= PC_LISTENER_REFRESH_S) {
		d->last_listener_scan = now;
		apply_ports(d);
	}
	if (pc_sampler_read(&d->sampler, pc_portset_span(&d->ps), now))
		return;
	pc_drops_read(&d->drops);
	/* Ask for the rule on the first interval with firewall drops: the answer is back
	 * long before the detector's second bad interval makes the port down. */
	if (d->liverule_on) {
		const struct pc_fw_change *last = pc_fw_history_last(&d->fw.hist);

		pc_liverule_tick(&d->liverule, &d->ps, &d->drops, last ? last->generation : 0, now);
	}
	pc_health_update(&d->health, &d->ps, &d->sampler, attributed_drops(d), &d->alerts, now);
	pc_alerts_reap(&d->alerts, now);
	/* The exposition is formatted only when a scrape asks for this sample (publish_metrics). */
	pc_exporter_sampled(d->exporter);
}

static double thread_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The ports' views as of the last interval: built for a status or a scrape, not per pass. */
static void list_views(struct pc_daemon *d)
{
	d->n_views =
		pc_health_views(&d->health, &d->ps, &d->sampler, attributed_drops(d), d->views);
}

/* One sampling pass, timed: what the daemon costs per interval (status, /metrics, bench).
 * CPU time of this thread, not the wall clock: what the pass costs the host, not how long
 * the scheduler kept it waiting. */
static void timed_sample(struct pc_daemon *d)
{
	double t0 = thread_cpu_now(), dt;

	sample(d);
	d->sampling.wall = wall_now();
	dt = thread_cpu_now() - t0;
	d->sampling.recent_s[d->sampling.passes % PC_SAMPLING_RECENT] = (float)dt;
	d->sampling.n_recent++;
	d->sampling.passes++;
	d->sampling.total_s += dt;
	d->sampling.last_s = dt;
	if (dt > d->sampling.max_s)
		d->sampling.max_s = dt;
}

static void iface_views(struct pc_daemon *d, struct pc_iface_view *ifs,
			char (*why)[PC_IFACE_WHY_LEN])
{
	int i;

	for (i = 0; i < d->ld.n_ifaces; i++) {
		const struct pc_iface *f = &d->ld.ifaces[i];
		bool xdp = f->hook == PC_INGRESS_XDP;

		pc_iface_why(f, why[i], PC_IFACE_WHY_LEN);
		ifs[i] = (struct pc_iface_view){
			.name = f->name,
			.ifindex = f->ifindex,
			.ingress = pc_ingress_hook_name(f->hook),
			.xdp_mode = xdp ? pc_xdp_mode_name(f->xdp_mode) : NULL,
			.adopted = f->adopted,
			.driver = f->facts.driver[0] ? f->facts.driver : NULL,
			.kind = f->facts.kind[0] ? f->facts.kind : NULL,
			.reason = pc_hook_reason_code(f->why),
			.why = why[i],
			.xdp_ahead = !xdp && f->facts.foreign_xdp[0] ? f->facts.foreign_xdp : NULL,
		};
	}
}

/* Once per interval: the exposition is formatted here, on the sampling thread, and
 * handed over; a scrape only copies the last one (it never waits for sampling). */
static void publish_metrics(struct pc_daemon *d)
{
	static const char *const zero[] = PC_METRICS_ZERO_REASONS;
	static struct pc_metrics_port ports[PC_MAX_SLOTS];
	static struct pc_alert_drop drops[PC_MAX_SLOTS][16];
	struct pc_iface_view ifs[PC_MAX_IFACES];
	char why[PC_MAX_IFACES][PC_IFACE_WHY_LEN];
	struct pc_metrics_fw fw = {.source = "nftables"};
	struct pc_metrics_input in = {
		.version = PC_VERSION,
		.start_time = d->started,
		.sample_time = d->sampling.wall, /* the sample's time, not the formatting's */
		.interval = d->opts->interval,
		.sampling = &d->sampling,
		.ports = ports,
		.n_ports = d->n_views,
		.zero_reasons = zero,
		.n_zero_reasons = sizeof(zero) / sizeof(zero[0]),
		.global = d->sampler.global,
		.fw = &fw,
		.n_fw = 1,
		.ifaces = ifs,
		.n_ifaces = d->ld.n_ifaces,
	};
	const struct pc_drops *dr = attributed_drops(d);
	int i;

	if (!d->exporter)
		return;
	list_views(d);
	in.n_ports = d->n_views;
	for (i = 0; i < d->n_views; i++) {
		ports[i].view = &d->views[i];
		ports[i].drops = drops[i];
		ports[i].n_drops = dr ? pc_drops_totals(dr, d->views[i].slot, drops[i], 16) : 0;
	}
	struct pc_metrics_fw_last last;
	struct pc_metrics_rollbacks rb;

	if (d->fwm_on) {
		rb = (struct pc_metrics_rollbacks){
			.port_down = d->fwm.rollbacks[PC_RB_PORT_DOWN],
			.firewall_blocks_port = d->fwm.rollbacks[PC_RB_BLOCKS_PORT],
			.requested = d->fwm.rollbacks[PC_RB_REQUESTED],
		};
		in.rollbacks = &rb;
	}

	if (d->fw.fd >= 0 && d->fw.hist.n) {
		const struct pc_fw_change *c = pc_fw_history_last(&d->fw.hist);

		fw.changes = d->fw.hist.count[PC_FW_NFTABLES];
		fw.vetted = d->fw.hist.vetted[PC_FW_NFTABLES];
		fw.last_change = c->time;
		last = (struct pc_metrics_fw_last){
			.source = pc_fw_source_name(c->source),
			.generation = c->generation,
			.vetted = c->vetted,
			.command = c->by.command[0] ? c->by.command : c->by.comm,
			.user = c->by.user,
			.unit = c->by.unit,
			.summary = c->summary,
		};
		in.fw_last = &last;
	}
	iface_views(d, ifs, why);
	pc_exporter_publish(d->exporter, pc_metrics_format(&in));
}

static char *status_text(struct pc_daemon *d)
{
	struct pc_iface_view ifs[PC_MAX_IFACES];
	char why[PC_MAX_IFACES][PC_IFACE_WHY_LEN];
	struct pc_status_meta m = {
		.sampling = &d->sampling,
		.interval = d->opts->interval,
		.started = d->started,
		.state_dir = d->opts->state_dir,
		.auto_ports = d->auto_ports,
		.ifaces = ifs,
		.n_ifaces = d->ld.n_ifaces,
		.global = d->sampler.global,
	};
	static struct pc_counters fresh[PC_MAX_SLOTS];
	struct json_object *doc;
	char *text;
	int i;

	/* Counters as of now; states and rates as of the last interval. */
	list_views(d);
	if (pc_sampler_peek(&d->sampler, pc_portset_span(&d->ps), fresh) == 0)
		for (i = 0; i < d->n_views; i++)
			d->views[i].total = fresh[d->views[i].slot];

	iface_views(d, ifs, why);
	if (d->fw.fd >= 0)
		m.firewall_changes = pc_fw_recent_json(&d->fw.hist, PC_STATUS_FW_CHANGES);
	if (d->fwm_on)
		m.firewall_operation = pc_fwm_status_json(&d->fwm, pc_mono_now());
	doc = pc_report_status(&m, d->views, d->n_views);
	text = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return text;
}

static void handle_control(struct pc_daemon *d)
{
	char req[1024];
	char *text;
	int cfd;

	while ((cfd = pc_control_accept(d->ctl_fd, req, sizeof(req))) >= 0) {
		if (d->fwm_on && pc_fwm_request(&d->fwm, cfd, req, wall_now(), pc_mono_now()))
			continue;
		if (!strcmp(req, "status")) {
			/* The last interval's picture: sampling on demand would feed the
			 * detector a partial interval. */
			text = status_text(d);
			pc_control_reply(cfd, text ? text : "{}");
			free(text);
		} else {
			/* Also a line a streaming client (apply, rollback) reads as its end. */
			pc_control_reply(cfd,
					 "{\"step\":\"result\",\"outcome\":\"error\",\"exit\":2,"
					 "\"error\":\"the daemon does not know this request "
					 "(firewall change management needs nftables; or the "
					 "versions differ)\"}\n");
		}
	}
}

static int set_timer(struct pc_daemon *d)
{
	struct itimerspec its = {};

	its.it_interval.tv_sec = (time_t)d->opts->interval;
	its.it_interval.tv_nsec = (long)((d->opts->interval - its.it_interval.tv_sec) * 1e9);
	its.it_value = its.it_interval;
	return timerfd_settime(d->timer_fd, 0, &its, NULL) ? -errno : 0;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* SIGHUP: read the config again (the command line still wins). Ports, interval,
 * detector thresholds and the event sinks change in place: ports that stay keep
 * their counters and learned baselines. A bad config changes nothing. */
static void reload(struct pc_daemon *d)
{
	static struct pc_run_opts next;
	struct pc_alerts alerts;
	char err[600];
	const struct pc_run_opts *old = d->opts;

	if (!old->cli || pc_config_resolve(old->cli, &next, err, sizeof(err))) {
		pc_err("SIGHUP: config refused, the old one stays in force: %s",
		       old->cli ? err : "no config source");
		return;
	}
	if (strcmp(nonempty(next.events_path) ?: "", nonempty(old->events_path) ?: "") ||
	    strcmp(nonempty(next.exec_cmd) ?: "", nonempty(old->exec_cmd) ?: "")) {
		if (pc_alerts_open(&alerts, nonempty(next.events_path), nonempty(next.exec_cmd))) {
			pc_err("SIGHUP: config refused, the old one stays in force: cannot open "
			       "the "
			       "events file %s",
			       next.events_path);
			return;
		}
		alerts.observer = d->alerts.observer;
		alerts.observer_ctx = d->alerts.observer_ctx;
		pc_alerts_close(&d->alerts);
		d->alerts = alerts;
	}
	if (next.n_ifaces != old->n_ifaces ||
	    memcmp(next.ifaces, old->ifaces, sizeof(next.ifaces[0]) * next.n_ifaces) ||
	    strcmp(next.state_dir, old->state_dir) || next.ingress != old->ingress ||
	    next.xdp_mode != old->xdp_mode)
		pc_warn("SIGHUP: interfaces, state dir, XDP mode and ingress hook change only "
			"with a restart; keeping the current ones");
	memcpy(next.ifaces, old->ifaces, sizeof(next.ifaces));
	next.n_ifaces = old->n_ifaces;
	memcpy(next.state_dir, old->state_dir, sizeof(next.state_dir));
	next.ingress = old->ingress;
	next.xdp_mode = old->xdp_mode;
	*d->opts = next; /* `old` points at it: not used from here on */
	d->health.cfg = d->opts->det;
	d->health.fw_window = d->opts->fw_window;
	d->auto_ports = d->opts->n_specs == 0;
	apply_ports(d);
	set_timer(d);
	pc_log_set_level(PC_LOG_INFO + d->opts->verbose);
	pc_info("SIGHUP: config %s reloaded: %d port spec%s%s, interval %.1f s",
		d->opts->config_path, d->opts->n_specs, d->opts->n_specs == 1 ? "" : "s",
		d->auto_ports ? " (every listener)" : "", d->opts->interval);
}

static int setup_fds(struct pc_daemon *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->sig_fd < 0 || d->timer_fd < 0 || set_timer(d))
		return -errno;
	d->ctl_fd = pc_control_listen(d->opts->state_dir);
	if (d->ctl_fd < 0) {
		pc_err("cannot create the control socket in %s: %s", d->opts->state_dir,
		       strerror(-d->ctl_fd));
		return d->ctl_fd;
	}
	return 0;
}

/* Commits were heard: list the ruleset (the check follows once the change is known). */
static void fw_heard(struct pc_daemon *d)
{
	const struct pc_fw_change *last = pc_fw_history_last(&d->fw.hist);

	/* The live rule is asked again at once: the answers for the last ruleset are stale. */
	if (d->liverule_on && last)
		pc_liverule_changed(&d->liverule, &d->ps, &d->drops, last->generation,
				    pc_mono_now());
	if (d->changes_on)
		pc_fw_changes_heard(&d->changes);
	else if (d->fwcheck_on)
		pc_fwcheck_changed(&d->fwcheck, pc_fw_history_last(&d->fw.hist), pc_mono_now());
}

/* Is a ruleset check pending or running? (An apply is kept only after its check.) */
static bool fwcheck_busy(void *ctx)
{
	struct pc_daemon *d = ctx;

	return d->fwcheck_on && (d->fwcheck.pending || d->fwcheck.pid || d->fwcheck_next_set);
}

/* A change is known (who, what): recorded, and the new ruleset checked for blocked ports. */
static struct json_object *fw_resolved(void *ctx, struct pc_fw_change *c,
				       const struct pc_fw_diff *diff, const char *before,
				       const char *after)
{
	struct pc_daemon *d = ctx;
	struct json_object *extra =
		d->fwm_on ? pc_fwm_changed(&d->fwm, c, diff, before, after) : NULL;

	if (!d->fwcheck_on)
		return extra;
	if (d->fwcheck.pid) {
		d->fwcheck_next = *c;
		d->fwcheck_next_set = true;
		return extra;
	}
	pc_fwcheck_changed(&d->fwcheck, c, pc_mono_now());
	return extra;
}

static int loop(struct pc_daemon *d)
{
	struct pollfd pfd[10] = {
		{.fd = d->sig_fd, .events = POLLIN},
		{.fd = d->timer_fd, .events = POLLIN},
		{.fd = d->ctl_fd, .events = POLLIN},
		{.fd = d->fw.fd, .events = POLLIN}, /* -1 (ignored by poll) when not watching */
		{.fd = -1, .events = POLLIN},	    /* a running ruleset check */
		{.fd = -1, .events = POLLIN},	    /* a ruleset listed after a change */
		{.fd = -1, .events = POLLIN},	    /* the live-rule replayer's answers */
		/* a scrape wants the last sample formatted (-1 without --listen) */
		{.fd = pc_exporter_want_fd(d->exporter), .events = POLLIN},
	};

	for (;;) {
		int timeout = -1, nm;

		/* A ruleset check waits for the change to settle, not for the next tick. */
		if (d->fwcheck_on && d->fwcheck.pending && !d->fwcheck.pid) {
			double wait = d->fwcheck.due - pc_mono_now();

			timeout = wait > 0 ? (int)(wait * 1000) + 1 : 0;
		}
		pfd[4].fd = d->fwcheck_on ? pc_fwcheck_fd(&d->fwcheck) : -1;
		pfd[5].fd = d->changes_on ? pc_fw_changes_fd(&d->changes) : -1;
		pfd[6].fd = d->liverule_on ? pc_liverule_fd(&d->liverule) : -1;
		nm = d->fwm_on ? pc_fwm_pollfds(&d->fwm, &pfd[8], 2) : 0;
		if (d->fwm_on) {
			int t = pc_fwm_timeout_ms(&d->fwm, pc_mono_now());

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (poll(pfd, 8 + nm, timeout) < 0) {
			if (errno == EINTR)
				continue;
			pc_err("poll: %s", strerror(errno));
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
					pc_info("%s: detaching and exiting",
						strsignal(si.ssi_signo));
					return 0;
				}
				if (si.ssi_signo == SIGHUP)
					reload(d);
			}
		}
		if (pfd[1].revents & POLLIN) {
			__u64 ticks;

			if (read(d->timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks))
				timed_sample(d);
		}
		if ((pfd[7].revents & POLLIN) && pc_exporter_take_want(d->exporter))
			publish_metrics(d);
		if (pfd[2].revents & POLLIN)
			handle_control(d);
		/* Before the next sample, so a change and the drop it causes are in order. */
		if ((pfd[3].revents & POLLIN) && pc_fwwatch_read(&d->fw, wall_now()) > 0)
			fw_heard(d);
		/* The listing may include commits not read yet: read them first. */
		if (pfd[5].revents & POLLIN) {
			if (pc_fwwatch_read(&d->fw, wall_now()) > 0)
				fw_heard(d);
			pc_fw_changes_listed(&d->changes, wall_now(), pc_mono_now());
		}
		if (pfd[4].revents & (POLLIN | POLLHUP))
			pc_fwcheck_read(&d->fwcheck, &d->alerts, wall_now(), pc_mono_now());
		if (d->fwcheck_next_set && !d->fwcheck.pid) {
			pc_fwcheck_changed(&d->fwcheck, &d->fwcheck_next, pc_mono_now());
			d->fwcheck_next_set = false;
		}
		if (pfd[6].revents & (POLLIN | POLLHUP))
			pc_liverule_read(&d->liverule, &d->ps, pc_mono_now());
		if (d->fwcheck_on)
			pc_fwcheck_tick(&d->fwcheck, &d->ps, pc_mono_now());
		if (d->fwm_on)
			pc_fwm_poll(&d->fwm, &pfd[8], nm, wall_now(), pc_mono_now());
	}
}

/*
 * The daemon's state, on transparent huge pages where the host allows them (madvise mode, the
 * default of most distributions): a sampling pass walks every monitored port's state once an
 * interval, cold (detectors, the counters' last totals, drops: 4.5 MB at 2,047 ports), which on
 * 4 KB pages is a TLB miss every few ports. Zeroed, as calloc() would.
 */
#define PC_HUGE_PAGE (2UL << 20)

static struct pc_daemon *daemon_alloc(void)
{
	size_t len = (sizeof(struct pc_daemon) + PC_HUGE_PAGE - 1) & ~(PC_HUGE_PAGE - 1);
	void *m;

	if (posix_memalign(&m, PC_HUGE_PAGE, len))
		return NULL;
	madvise(m, len, MADV_HUGEPAGE); /* advice: without THP the pages stay small */
	memset(m, 0, sizeof(struct pc_daemon));
	return m;
}

int pc_daemon_run(struct pc_run_opts *opts)
{
	struct pc_loader_opts lopts = {
		.state_dir = opts->state_dir,
		.ingress = opts->ingress,
		.xdp_mode = opts->xdp_mode,
		.netns_ino = pc_netns_ino(),
	};
	char names[PC_MAX_IFACES][IF_NAMESIZE];
	struct pc_daemon *d;
	int n_ifaces = opts->n_ifaces, ret = 2, err;

	if (pc_loader_preflight_checks())
		return 2;
	memcpy(names, opts->ifaces, sizeof(names));
	if (!n_ifaces) {
		if (pc_default_route_iface(names[0])) {
			pc_err("no default route to take the interface from: name it with -i "
			       "IFACE");
			return 2;
		}
		pc_info("no -i given: watching %s, the interface of the default route", names[0]);
		n_ifaces = 1;
	}
	/* Unknown interfaces are refused before anything is mounted, loaded or attached. */
	for (int i = 0; i < n_ifaces; i++)
		if (!if_nametoindex(names[i])) {
			pc_err("unknown interface '%s': no such device in this network namespace "
			       "(see `ip link`)",
			       names[i]);
			return 2;
		}
	d = daemon_alloc();
	if (!d) {
		pc_err("out of memory");
		return 1;
	}
	d->opts = opts;
	d->ctl_fd = d->sig_fd = d->timer_fd = -1;
	d->auto_ports = opts->n_specs == 0;
	d->started = wall_now();
	pc_log_set_timestamps(1);
	pc_health_init(&d->health, &opts->det, pc_mono_now(), d->started);
	err = pc_fwwatch_open(&d->fw);
	if (err)
		pc_warn("cannot watch nftables changes (%s): alerts will not name firewall changes",
			strerror(-err));
	d->health.fw = d->fw.fd >= 0 ? &d->fw.hist : NULL;
	if (d->fw.fd >= 0) {
		err = pc_fwcheck_init(&d->fwcheck, names[0]);
		if (err)
			pc_warn("cannot read the nftables ruleset (%s): new rulesets will not be "
				"checked for blocked ports",
				strerror(-err));
		d->fwcheck_on = !err;
		err = pc_fw_changes_init(&d->changes, &d->fw, &d->alerts);
		if (err)
			pc_warn("cannot list the nftables ruleset (%s): changes will not say what "
				"they added and removed",
				strerror(-err));
		d->changes_on = !err;
		d->changes.cb = fw_resolved;
		d->changes.cb_ctx = d;
	}
	d->health.fw_window = opts->fw_window;
	if (pc_alerts_open(&d->alerts, nonempty(opts->events_path), nonempty(opts->exec_cmd)))
		goto out_free;
	err = pc_dropreasons_load(&d->reasons);
	if (err) {
		pc_warn("cannot read the kernel's drop reasons from BTF (%s): drops will not be "
			"attributed",
			strerror(-err));
		d->reasons = NULL;
	}

	if (pc_loader_open(&d->ld, &lopts))
		goto out_free;
	pc_clients_configure(&d->ld, lopts.netns_ino);
	if (pc_loader_attach(&d->ld, names, n_ifaces))
		goto out_close;
	pc_loader_attach_drops(&d->ld);
	pc_clients_attach(&d->clients, &d->ld);
	err = pc_drop_table_open(&d->droptab, pc_loader_drop_keys_fd(&d->ld),
				 pc_loader_drops_fd(&d->ld));
	if (err)
		pc_err("cannot map the drop table: %s", strerror(-err));
	else
		err = pc_portset_open(&d->ps, pc_loader_ports_fd(&d->ld),
				      pc_loader_counters_fd(&d->ld), &d->droptab);
	if (!err)
		err = pc_sampler_init(&d->sampler, pc_loader_counters_fd(&d->ld),
				      pc_loader_global_fd(&d->ld));
	if (!err)
		err = pc_drops_init(&d->drops,
				    d->reasons && d->ld.drops_attached ? &d->droptab : NULL,
				    d->reasons);
	if (!err) {
		d->last_listener_scan = pc_mono_now();
		err = apply_ports(d);
	}
	if (!err)
		err = setup_fds(d);
	if (!err && opts->listen_addr[0])
		err = pc_exporter_start(opts->listen_addr, &d->exporter);
	if (err) {
		pc_loader_detach(&d->ld);
		goto out_close;
	}
	if (d->auto_ports)
		pc_info("no -p given: watching every TCP port with a listener (%d now)",
			d->ps.nused);
	if (d->fw.fd >= 0) {
		struct pc_fw_env env = {
			.fw = &d->fw,
			.alerts = &d->alerts,
			.ps = &d->ps,
			.clients = &d->clients,
			.state_dir = opts->state_dir,
			.iface = names[0],
			.check_busy = fwcheck_busy,
			.ctx = d,
			.revert_blocking = &d->opts->revert_blocking,
			.fw_window = &d->opts->fw_window,
		};

		/* Without a usable history, apply still works; rollback and revert do not. */
		pc_fwm_init(&d->fwm, &env);
		d->fwm_on = true;
		d->alerts.observer = pc_fwm_alert;
		d->alerts.observer_ctx = &d->fwm;
		if (d->fwm_on && d->changes_on)
			pc_fwm_check_offline(&d->fwm, &d->changes, wall_now(), pc_mono_now());
		pc_fwm_resume(&d->fwm, wall_now(), pc_mono_now());
		if (opts->revert_blocking)
			pc_info("firewall: unvetted changes that block a monitored port are rolled "
				"back (--revert-blocking-changes)");
	}
	/* Everything that needed more than CAP_BPF and CAP_NET_ADMIN is done. */
	err = pc_privs_drop(pc_loader_exit_needs_admin(&d->ld));
	{
		char caps[128];

		pc_privs_describe(caps, sizeof(caps));
		if (err)
			pc_warn("cannot drop capabilities (%s); holding: %s", strerror(-err), caps);
		else
			pc_info("privileges dropped; holding: %s", caps[0] ? caps : "none");
	}
	/* The live rule's processes start with only the capabilities kept (the lister needs
	 * CAP_NET_ADMIN to list the ruleset; the replayer makes a user namespace of its own),
	 * and before any thread: a fork copies only the calling thread. */
	if (d->fw.fd >= 0 && attributed_drops(d)) {
		err = pc_liverule_start(&d->liverule, names, n_ifaces,
					pc_loader_samples_fd(&d->ld));
		if (err)
			pc_warn("cannot start the sandbox replayer (%s): alerts will not name the "
				"rule that drops a port's clients",
				strerror(-err));
		d->liverule_on = !err;
		d->health.liverule = d->liverule_on ? &d->liverule : NULL;
	}
	/* A thread inherits its creator's capabilities: started only now. */
	if (d->changes_on && pc_fw_changes_start(&d->changes)) {
		pc_warn("cannot start the ruleset lister: changes will not say what they added "
			"and removed");
		pc_fw_changes_free(&d->changes);
		d->changes_on = false;
	}
	timed_sample(d); /* the first read sets the reference for rates */
	ret = loop(d);
	if (d->fwm_on)
		pc_fwm_stop(&d->fwm);
	pc_clients_detach(&d->clients);
	if (pc_loader_exit_needs_admin(&d->ld))
		pc_privs_raise_for_exit();
	pc_loader_detach(&d->ld);
	pc_control_unlink(opts->state_dir);

out_close:
	if (d->ctl_fd >= 0)
		close(d->ctl_fd);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	pc_sampler_free(&d->sampler);
	pc_drops_free(&d->drops);
	pc_portset_close(&d->ps);
	pc_drop_table_close(&d->droptab);
	pc_loader_close(&d->ld);
	pc_alerts_close(&d->alerts);
	pc_fwwatch_close(&d->fw);
	if (d->fwcheck_on)
		pc_fwcheck_free(&d->fwcheck);
	if (d->changes_on)
		pc_fw_changes_free(&d->changes);
	if (d->liverule_on)
		pc_liverule_stop(&d->liverule);
	pc_exporter_stop(d->exporter);
out_free:
	pc_dropreasons_free(d->reasons);
	free(d);
	return ret;
}
