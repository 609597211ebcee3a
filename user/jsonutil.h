/* SPDX-License-Identifier: GPL-2.0 */
/* jsonutil.h: the small json-c reads and writes every JSON producer and reader here shares. */
#ifndef PC_JSONUTIL_H
#define PC_JSONUTIL_H

#include <stdint.h>
#include <json-c/json.h>

/* o[k] as a string; dflt when o has no k or k is null. */
const char *pc_json_str(struct json_object *o, const char *k, const char *dflt);
/* o[k] as an integer; dflt when o has no k or k is null. */
int64_t pc_json_int(struct json_object *o, const char *k, int64_t dflt);
/* A JSON string, or null for NULL and "" (fields that are unknown rather than empty). */
struct json_object *pc_json_str_or_null(const char *s);
/* Write all of text to fd, as a forked child reports to the daemon: retries short writes,
 * EINTR, and EAGAIN (waiting up to 1 s each time). 0, or -1 when the reader went away. */
int pc_write_all(int fd, const char *text, size_t len);

#endif
