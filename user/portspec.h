/* SPDX-License-Identifier: GPL-2.0 */
/* portspec.h: parsing of port SPECs ([tcp/|udp/]PORT[-PORT][:in|:out]) and strict numbers. */
#ifndef PC_PORTSPEC_H
#define PC_PORTSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_portspec {
	uint8_t proto;	/* enum pc_proto */
	uint8_t dir;	/* enum pc_dir */
	uint16_t first; /* 1..65535 */
	uint16_t last;	/* first..65535 */
};

/* Parse one SPEC. Returns 0, or -EINVAL with a one-line reason in err. */
int pc_portspec_parse(const char *s, struct pc_portspec *spec, char *err, size_t errlen);
/* Format as the canonical "tcp/8000-8010:in". */
void pc_portspec_format(const struct pc_portspec *spec, char *buf, size_t len);

/* Strict unsigned parse: decimal digits only, no sign, no trailing garbage, in [min,max]. */
int pc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Strict positive decimal (e.g. "1", "0.5"); no trailing garbage, in [min,max]. */
int pc_parse_double(const char *s, double min, double max, double *out);

const char *pc_proto_name(int proto);
const char *pc_dir_name(int dir);
int pc_proto_from_name(const char *s);
int pc_dir_from_name(const char *s);

#endif
