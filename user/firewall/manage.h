/* SPDX-License-Identifier: GPL-2.0 */
/* manage.h: change management: apply with automatic rollback, history and rollback, reverts of
 * unvetted blocking changes. One operation at a time; the daemon owns it, not the client. */
#ifndef PC_FWMANAGE_H
#define PC_FWMANAGE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "alerts.h"
#include "clients.h"
#include "firewall/changes.h"
#include "firewall/history.h"
#include "firewall/trial.h"
#include "firewall/watch.h"
#include "portset.h"

struct json_object;

#define PC_APPLY_MAX_BYTES	 (1u << 20) /* the ruleset text an apply may send */
#define PC_APPLY_DEFAULT_CONFIRM 60.0	    /* seconds every port is watched after an apply */
#define PC_APPLY_MAX_CONFIRM	 3600.0
#define PC_APPLY_RECV_S		 10.0  /* to send the text, once connected */
#define PC_APPLY_CHECK_GRACE_S	 20.0  /* a ruleset check still running at the deadline */
#define PC_TRIAL_MAX_S		 120.0 /* a preflight that takes longer is given up */
#define PC_REVERT_GUARD		 32    /* changes reverted, remembered against revert loops */

enum pc_rollback_reason {
	PC_RB_PORT_DOWN = 0,
	PC_RB_BLOCKS_PORT,
	PC_RB_REQUESTED,
	PC_RB_MAX,
};
const char *pc_rollback_reason_name(enum pc_rollback_reason r);

/* What the manager uses of the daemon. */
struct pc_fw_env {
	struct pc_fwwatch *fw;
	struct pc_alerts *alerts;
	const struct pc_portset *ps;
	const struct pc_clients *clients;
	const char *state_dir;
	const char *iface; /* the interface name rules see, for preflights */
	/* Whether a ruleset check (firewall_blocks_port) is pending or running. */
	bool (*check_busy)(void *ctx);
	void *ctx;
	const bool *revert_blocking; /* run --revert-blocking-changes (SIGHUP may change it) */
	const double *fw_window;
};

enum pc_op_kind {
	PC_OP_NONE = 0,
	PC_OP_APPLY,
	PC_OP_ROLLBACK,
};

enum pc_op_state {
	PC_OP_RECEIVING = 0,
	PC_OP_TRIAL,
	PC_OP_WATCHING,
};

/* The operation under way: its client (gone or not), its request, where it stands. */
struct pc_op {
	enum pc_op_kind kind;
	enum pc_op_state state;
	int fd;	   /* the client; -1 once it has gone (the operation goes on) */
	bool json; /* the client asked for one object at the end (it renders; unused here) */
	uid_t uid; /* who asked (SO_PEERCRED) */
	pid_t pid;
	struct json_object *requester; /* who asked, read when they asked (they may go) */
	/* The request. */
	char name[160]; /* the file's name, for messages */
	double confirm_s;
	bool force;
	uint32_t to_gen; /* rollback --to; 0: the last change */
	size_t want;
	char *text;
	size_t got;
	double recv_deadline;
	/* Before the commit. */
	char *saved; /* the live ruleset (nft list ruleset): what a rollback restores */
	uint32_t saved_gen;
	char *candidate;   /* what the trial loads */
	char *target;	   /* rollback: the ruleset to restore */
	uint32_t undo_gen; /* rollback: the change it undoes */
	struct pc_trial trial;
	struct pc_trial_group groups[PC_TRIAL_MAX_GROUPS];
	int ngroups;
	/* After the commit. */
	uint32_t gen; /* the generation the apply made */
	double applied_wall, deadline_mono, grace_until;
	struct pc_portspec accepted[64]; /* --force: blocks accepted, not watched */
	int naccepted;
	struct json_object *foreign; /* changes by others during the window */
	struct json_object *preflight;
	double last_tick;
	bool check_wait_said;
};

/* The daemon's own commits, in order, waiting for their change record. */
struct pc_annot {
	char kind[16]; /* apply | rollback | revert */
	uint32_t undid;
	struct json_object *extra; /* requested_by, file, reason ... */
};

struct pc_fw_manager {
	struct pc_fw_env env;
	struct pc_history hist;
	bool hist_on;
	struct pc_op op; /* op.kind PC_OP_NONE: none */
	struct pc_annot annot[8];
	unsigned int annot_head, annot_tail;
	char reverted[PC_REVERT_GUARD][17]; /* fingerprints of changes reverted */
	uint32_t reverted_gen[PC_REVERT_GUARD];
	unsigned int nreverted;
	uint32_t last_restore_gen; /* the generation of our last restore */
	uint64_t rollbacks[PC_RB_MAX];
	uint64_t reverts_skipped;
	uint32_t skipped_gen; /* the last change a revert was refused for (said once) */
	bool stopping;	      /* the daemon exits: a watched apply stays pending */
};

/* Open the history in the state dir. 0 or -errno (the manager still works without it:
 * apply, but no history, rollback or revert). */
int pc_fwm_init(struct pc_fw_manager *m, const struct pc_fw_env *env);
/* A control request: apply, rollback or history. true when it was one of these (the
 * client fd is then the manager's: answered, or kept for the operation). */
bool pc_fwm_request(struct pc_fw_manager *m, int cfd, const char *req, double wall, double mono);
/* The fds to poll (the client of an operation receiving, a trial child). */
int pc_fwm_pollfds(const struct pc_fw_manager *m, struct pollfd *pfd, int max);
/* What poll said about them; also deadlines and the 1 s progress ticks. */
void pc_fwm_poll(struct pc_fw_manager *m, const struct pollfd *pfd, int n, double wall,
		 double mono);
/* How long poll may wait for the manager (ms), -1 forever. */
int pc_fwm_timeout_ms(const struct pc_fw_manager *m, double mono);
/* Every alert the daemon emits (pc_alerts observer): rollbacks are decided here. */
void pc_fwm_alert(void *m, const struct pc_alert *a, const struct pc_fw_block_alert *b,
		  double mono);
/* Every change, once listed: the history record, the daemon's own annotated. Returns the
 * fields the change's event gets (kind, requested_by ...; NULL for none). */
struct json_object *pc_fwm_changed(struct pc_fw_manager *m, struct pc_fw_change *c,
				   const struct pc_fw_diff *d, const char *before,
				   const char *after);
/* At start: was the ruleset changed while no daemon ran (against the history's last)? */
void pc_fwm_check_offline(struct pc_fw_manager *m, struct pc_fw_changes *ch, double wall,
			  double mono);
/* The operation under way for `status` ({"kind","state","file","generation","seconds_left",
 * "requested_by"}), or NULL when there is none. */
struct json_object *pc_fwm_status_json(const struct pc_fw_manager *m, double mono);
/* The daemon stops: a watching client is told, the change stays, and a daemon started
 * again within the window resumes the watch. */
void pc_fwm_stop(struct pc_fw_manager *m);
/* At start: an apply whose window was open when the daemon last stopped is watched for
 * what is left of it (if the ruleset is still that apply's). */
void pc_fwm_resume(struct pc_fw_manager *m, double wall, double mono);

/* ---- shared by apply.c, rollback.c and manage.c ---- */

/* Unix time now, for event times. */
static inline double pc_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A progress line to the operation's client (dropped if it has gone). */
void pc_op_say(struct pc_fw_manager *m, struct json_object *line);
/* End the operation: the result line, the client closed, the state freed. */
void pc_op_finish(struct pc_fw_manager *m, const char *outcome, int exit_code,
		  struct json_object *result);
/* The same for an error: {"outcome":"error","error":msg}. */
void pc_op_fail(struct pc_fw_manager *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Queue the annotation of the daemon's next own commit (extra taken over). */
void pc_fwm_annotate(struct pc_fw_manager *m, const char *kind, uint32_t undid,
		     struct json_object *extra);
/* Trial groups of every monitored port with its recent clients. */
int pc_fwm_groups(struct pc_fw_manager *m, struct pc_trial_group *g, int max);
/* {"pid","uid","user","command"} of the operation's client. */
struct json_object *pc_op_requester(const struct pc_op *op);
struct json_object *pc_port_obj(int proto, int port, int dir);

/* apply.c */
int pc_apply_begin(struct pc_fw_manager *m, struct json_object *req, double mono);
void pc_apply_received(struct pc_fw_manager *m, double wall, double mono);
void pc_apply_trial_done(struct pc_fw_manager *m, double wall, double mono);
void pc_apply_tick(struct pc_fw_manager *m, double wall, double mono);
void pc_apply_alert(struct pc_fw_manager *m, const struct pc_alert *a,
		    const struct pc_fw_block_alert *b, double mono);
void pc_apply_foreign(struct pc_fw_manager *m, const struct pc_fw_change *c);
/* The watched apply in the state dir (written at commit, removed at its outcome). */
void pc_apply_persist(struct pc_fw_manager *m, double wall);
void pc_apply_forget(struct pc_fw_manager *m);
/* `firewall rollback` while an apply is watched: roll it back now; cfd gets the result. */
void pc_apply_requested_rollback(struct pc_fw_manager *m, int cfd, uid_t uid, pid_t pid,
				 double mono);

/* Save the live ruleset in op->saved (and its generation) and check that it can be
 * restored; on failure the operation ends with the reason. 0 or -errno. */
int pc_op_save_live(struct pc_fw_manager *m);
/* Try op->candidate against op->saved for every monitored port. 0: started; 1: nothing
 * is monitored (done at once); -errno: the operation ended. */
int pc_op_start_trial(struct pc_fw_manager *m, double mono);
/* Refuse what the daemon will not run: include (it opens no path it is given) and
 * monitor (it would never end). 0, or -EINVAL with the line in err (pure). */
int pc_apply_text_check(const char *text, char *err, size_t errlen);
/* The port an alert is about, with its state, cause, detail and rule. */
struct json_object *pc_alert_port(const struct pc_alert *a, const struct pc_fw_block_alert *b);

/* rollback.c */
/* Restore a listing in one transaction ("flush ruleset" and it), as `kind` (rollback,
 * revert) of generation undid_gen back to the ruleset of restored_gen; the generation it
 * made in *gen. The firewall_rollback event is emitted; ports and undid are JSON arrays
 * (taken over). 0 or -errno with nft's message logged. */
int pc_fw_restore(struct pc_fw_manager *m, const char *listing, enum pc_rollback_reason why,
		  const char *kind, uint32_t undid_gen, uint32_t restored_gen,
		  struct json_object *ports, struct json_object *undid, uint32_t *gen, double mono);
int pc_rollback_begin(struct pc_fw_manager *m, struct json_object *req, double mono);
void pc_rollback_trial_done(struct pc_fw_manager *m, double wall, double mono);
void pc_revert_alert(struct pc_fw_manager *m, const struct pc_alert *a,
		     const struct pc_fw_block_alert *b, double mono);

#endif
