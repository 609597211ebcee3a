/* SPDX-License-Identifier: GPL-2.0 */
/* exporter.h: the /metrics HTTP endpoint (libmicrohttpd) serving the latest exposition. */
#ifndef PC_EXPORTER_H
#define PC_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Limits against garbage, slow and flooding clients (each has its reason in exporter.c). */
#define PC_EXPORTER_TIMEOUT_S	     10		 /* idle connection closed after this */
#define PC_EXPORTER_MAX_CONNS	     64		 /* connections at once, all clients */
#define PC_EXPORTER_MAX_CONNS_PER_IP 8		 /* connections at once from one address */
#define PC_EXPORTER_MEMORY_LIMIT     (32 * 1024) /* per connection: request and headers */

struct pc_exporter;

/* Parse a --listen spec: "ADDR:PORT", "[V6ADDR]:PORT" (optionally "[fe80::1%eth0]:PORT"),
 * or ":PORT" / "PORT" for loopback (127.0.0.1). ADDR is numeric or "localhost". PORT is
 * 0..65535 (0: the kernel picks one, see pc_exporter_port). Returns 0, or -EINVAL with a
 * one-line reason in err. Pure: no socket is opened. */
int pc_exporter_parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen,
			     char *err, size_t errlen);

/* Bind, listen and start serving on an internal thread. Until the first publish, /metrics
 * answers 503. Returns 0, or -errno after one clear pc_err line (bad spec: -EINVAL; port
 * in use: -EADDRINUSE; ...). */
int pc_exporter_start(const char *listen_spec, struct pc_exporter **out);

/* Replace the served exposition with text (malloc'd; ownership passes to the exporter,
 * which frees it once no scrape uses it), formatted from the last sample. Never waits for a
 * scrape: a scrape in flight keeps a reference to the text it started with; scrapes waiting
 * for this sample are resumed. ex == NULL (no --listen) frees text. */
void pc_exporter_publish(struct pc_exporter *ex, char *text);

/*
 * On-demand formatting. The sampling thread calls pc_exporter_sampled() after each sample
 * (cheap: nothing is formatted), polls pc_exporter_want_fd(), and when it is readable and
 * pc_exporter_take_want() says so, formats the last sample and publishes it. A scrape that
 * finds the text older than the last sample waits for that publish (suspended, not holding
 * the server thread); so the exposition is formatted at most once per sample, and never
 * when nobody scrapes.
 */
void pc_exporter_sampled(struct pc_exporter *ex);
int pc_exporter_want_fd(const struct pc_exporter *ex); /* -1 without an exporter */
bool pc_exporter_take_want(struct pc_exporter *ex);

/* The port actually bound (useful after a spec with port 0). */
int pc_exporter_port(const struct pc_exporter *ex);

/* Stop the server thread, close every connection, free everything. NULL is a no-op. */
void pc_exporter_stop(struct pc_exporter *ex);

#endif
