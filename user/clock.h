/* SPDX-License-Identifier: GPL-2.0 */
/* clock.h: the monotonic clock every timer, deadline and duration here is measured on. */
#ifndef PC_CLOCK_H
#define PC_CLOCK_H

#include <time.h>

/* CLOCK_MONOTONIC, in seconds. */
static inline double pc_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
