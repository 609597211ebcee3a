/* SPDX-License-Identifier: GPL-2.0 */
/* lister.h: the ruleset listed after each change by a worker thread, off the main loop. */
#ifndef PC_FWLISTER_H
#define PC_FWLISTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* One listing, consistent with one generation (read before and after it). */
struct pc_listing {
	uint32_t generation;
	char *diffable; /* `nft -a -s list ruleset`: handles, no counters */
	char *full;	/* `nft list ruleset`: what restores it exactly */
	double took_s;	/* how long listing took */
	int err;	/* 0, or -errno: the other fields are empty */
};

struct pc_lister {
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want, stop; /* guarded by mu */
	bool have;	 /* a result waits in res (guarded by mu) */
	struct pc_listing res;
	int efd; /* eventfd: readable when a result waits */
};

/* Take one listing now, in the calling thread (the daemon's first, at start). */
int pc_listing_take(struct pc_listing *l);
void pc_listing_free(struct pc_listing *l);

/* Start the worker. It inherits the caller's capabilities: start it after dropping them. */
int pc_lister_start(struct pc_lister *l);
/* Ask for a listing; requests while one is being taken are served by one more after it. */
void pc_lister_request(struct pc_lister *l);
int pc_lister_fd(const struct pc_lister *l);
/* The result, when one waits: true and *out filled (the caller frees it). */
bool pc_lister_get(struct pc_lister *l, struct pc_listing *out);
void pc_lister_stop(struct pc_lister *l);

#endif
