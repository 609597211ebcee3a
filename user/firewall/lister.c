// SPDX-License-Identifier: GPL-2.0
/* lister.c: a worker thread lists the ruleset (a 5000-rule one takes ~0.1 s), so sampling never waits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "firewall/lister.h"
#include "firewall/nft.h"

void pc_listing_free(struct pc_listing *l)
{
	free(l->diffable);
	free(l->full);
	memset(l, 0, sizeof(*l));
}

int pc_listing_take(struct pc_listing *l)
{
	double t0 = pc_mono_now();
	uint32_t g1, g2;
	int tries, err = 0;

	memset(l, 0, sizeof(*l));
	/* Two listings and the generation around them: another commit in between would
	 * make them disagree, so try again (a few times: changes come in bursts). */
	for (tries = 0; tries < 4; tries++) {
		pc_listing_free(l);
		err = pc_nft_genid(&g1);
		if (err)
			break;
		l->diffable = pc_nft_list(PC_NFT_LIST_HANDLES | PC_NFT_LIST_STATELESS);
		l->full = l->diffable ? pc_nft_list(0) : NULL;
		if (!l->full) {
			err = -errno;
			break;
		}
		err = pc_nft_genid(&g2);
		if (err || g1 == g2)
			break;
		err = -EAGAIN;
	}
	if (err) {
		pc_listing_free(l);
		l->err = err;
		return err;
	}
	l->generation = g2;
	l->took_s = pc_mono_now() - t0;
	return 0;
}

static void *worker(void *arg)
{
	struct pc_lister *l = arg;
	struct pc_listing res;
	uint64_t one = 1;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->want && !l->stop)
			pthread_cond_wait(&l->cv, &l->mu);
		if (l->stop)
			break;
		l->want = false;
		pthread_mutex_unlock(&l->mu);
		pc_listing_take(&res);
		pthread_mutex_lock(&l->mu);
		/* A result not collected yet is older than this one: replace it. */
		if (l->have)
			pc_listing_free(&l->res);
		l->res = res;
		l->have = true;
		if (write(l->efd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow at this rate: nothing to do. */
		}
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int pc_lister_start(struct pc_lister *l)
{
	int err;

	memset(l, 0, sizeof(*l));
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->efd < 0)
		return -errno;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	err = pthread_create(&l->thread, NULL, worker, l);
	if (err) {
		close(l->efd);
		l->efd = -1;
		return -err;
	}
	l->started = true;
	return 0;
}

void pc_lister_request(struct pc_lister *l)
{
	if (!l->started)
		return;
	pthread_mutex_lock(&l->mu);
	l->want = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

int pc_lister_fd(const struct pc_lister *l)
{
	return l->started ? l->efd : -1;
}

bool pc_lister_get(struct pc_lister *l, struct pc_listing *out)
{
	uint64_t v;
	bool have;

	if (!l->started)
		return false;
	if (read(l->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing signalled; a result may still wait (signalled earlier). */
	}
	pthread_mutex_lock(&l->mu);
	have = l->have;
	if (have) {
		*out = l->res;
		memset(&l->res, 0, sizeof(l->res));
		l->have = false;
	}
	pthread_mutex_unlock(&l->mu);
	return have;
}

void pc_lister_stop(struct pc_lister *l)
{
	if (!l->started)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	if (l->have)
		pc_listing_free(&l->res);
	close(l->efd);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	l->started = false;
}
