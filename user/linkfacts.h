/* SPDX-License-Identifier: GPL-2.0 */
/* linkfacts.h: what the kernel says of an interface: driver, software kind, receive coalescing. */
#ifndef PC_LINKFACTS_H
#define PC_LINKFACTS_H

#include "hookchoice.h"

/* Fill f (all but the foreign-XDP fields) for the interface of this network namespace.
 * Facts that cannot be read stay empty/false: the rule treats them conservatively. Returns 0,
 * or -errno when the interface itself cannot be queried. */
int pc_link_facts_read(const char *name, int ifindex, struct pc_link_facts *f);

#endif
