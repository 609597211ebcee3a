// SPDX-License-Identifier: GPL-2.0
/* exporter.c: serves /metrics with libmicrohttpd; the daemon publishes, scrapes only read. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "exporter.h"
#include "log.h"
#include "portspec.h"

/* Why the limits in exporter.h are what they are:
 * - TIMEOUT 10 s: Prometheus' default scrape timeout; an idle or stalled client is
 *   closed after it, so half-open connections cannot pile up.
 * - MAX_CONNS 64: a handful of Prometheus servers and humans need a few; the rest of
 *   a flood is refused at accept, costing nothing but a close.
 * - MAX_CONNS_PER_IP 8: a slow-loris that trickles bytes keeps resetting the idle
 *   timeout; this cap keeps one such source from taking every slot from the scrapers.
 * - MEMORY_LIMIT 32 KiB: a request line and headers larger than this are refused
 *   (431/414) instead of growing without bound. It also holds the response's write
 *   buffer, so responses are streamed in RESPONSE_BLOCK pieces. */
#define RESPONSE_BLOCK 8192

/* One published exposition. Scrapes in flight hold a reference each, so the daemon can
 * publish the next one without waiting for a slow client to finish reading this one. */
struct pc_snapshot {
	atomic_int refs;
	size_t len;
	char *text;
};

struct pc_exporter {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;	 /* guards what follows; held only briefly, never to format */
	struct pc_snapshot *cur; /* NULL until the first publish */
	/*
	 * Formatted on demand: the sampling thread says a sample exists (sampled), and formats
	 * the exposition only when a scrape wants that sample (want_fd), at most once per
	 * sample however many scrapes come. A scrape that finds the text older than the last
	 * sample is suspended (not blocking the server thread) until the publish resumes it.
	 */
	uint64_t sampled;  /* samples taken so far */
	uint64_t cur_seq;  /* the sample cur was formatted from */
	bool want_pending; /* want_fd signalled, no publish since */
	int want_fd;	   /* eventfd: the sampling thread's poll wakes on it */
	struct MHD_Connection *waiting[PC_EXPORTER_MAX_CONNS];
	int n_waiting;
	/* The fixed responses, built once and queued many times. */
	struct MHD_Response *r_index;
	struct MHD_Response *r_not_found;
	struct MHD_Response *r_not_allowed;
	struct MHD_Response *r_no_sample;
	int port;
};

static const char CT_METRICS[] = "text/plain; version=0.0.4; charset=utf-8";
static const char INDEX_HTML[] =
	"<!DOCTYPE html>\n<html><head><title>portcanary</title></head>\n"
	"<body><h1>portcanary</h1>\n"
	"<p>Per-port connectivity canary. Metrics: <a href=\"/metrics\">/metrics</a></p>\n"
	"</body></html>\n";
static const char NOT_FOUND[] = "404 not found: portcanary serves /metrics\n";
static const char NOT_ALLOWED[] = "405 method not allowed: use GET\n";
static const char NO_SAMPLE[] = "503 no sample yet: portcanary is starting\n";

static void snapshot_put(struct pc_snapshot *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		free(s->text);
		free(s);
	}
}

static ssize_t snapshot_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct pc_snapshot *s = cls;
	size_t n;

	if (pos >= s->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = s->len - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, s->text + pos, n);
	return (ssize_t)n;
}

static void snapshot_free_cb(void *cls)
{
	snapshot_put(cls);
}

/*
 * The current text if it is of the last sample (or this request was resumed once already:
 * serve what there is, never wait twice); else NULL with the request parked for the next
 * publish (*parked), or NULL and not parked when nothing can be waited for.
 */
static struct pc_snapshot *take_current(struct pc_exporter *ex, struct MHD_Connection *conn,
					bool resumed, bool *parked)
{
	struct pc_snapshot *s = NULL;
	uint64_t one = 1;

	*parked = false;
	pthread_mutex_lock(&ex->lock);
	if (ex->cur && (resumed || ex->cur_seq >= ex->sampled || ex->want_fd < 0 ||
			ex->n_waiting == PC_EXPORTER_MAX_CONNS)) {
		s = ex->cur;
		atomic_fetch_add(&s->refs, 1);
	} else if (ex->sampled && !resumed && ex->n_waiting < PC_EXPORTER_MAX_CONNS) {
		ex->waiting[ex->n_waiting++] = conn;
		MHD_suspend_connection(conn);
		*parked = true;
		if (!ex->want_pending && write(ex->want_fd, &one, sizeof(one)) == sizeof(one))
			ex->want_pending = true;
	}
	pthread_mutex_unlock(&ex->lock);
	return s;
}

static enum MHD_Result serve_metrics(struct pc_exporter *ex, struct MHD_Connection *conn,
				     void **req_cls)
{
	static char resumed_mark;
	struct MHD_Response *r;
	struct pc_snapshot *s;
	enum MHD_Result ret;
	bool parked;

	s = take_current(ex, conn, *req_cls == &resumed_mark, &parked);
	if (parked) {
		*req_cls = &resumed_mark;
		return MHD_YES;
	}
	if (!s)
		return MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, ex->r_no_sample);

	/* Streamed from the snapshot: no copy, and the reference is dropped by MHD when
	 * the response is done with, however the connection ends. */
	r = MHD_create_response_from_callback(s->len, RESPONSE_BLOCK, snapshot_read, s,
					      snapshot_free_cb);
	if (!r) {
		snapshot_put(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_METRICS);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct pc_exporter *ex = cls;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	/* Answered on the first call, before any body: a request with a body is refused
	 * (405) and MHD closes that connection rather than read what it does not need.
	 * HEAD is GET without the body, which MHD takes care of. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, ex->r_not_allowed);
	if (!strcmp(url, "/metrics"))
		return serve_metrics(ex, conn, req_cls);
	if (!strcmp(url, "/"))
		return MHD_queue_response(conn, MHD_HTTP_OK, ex->r_index);
	return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, ex->r_not_found);
}

/* MHD reports every client's misbehaviour (bad requests, timeouts): useful while
 * debugging, but at any higher level a garbage flood would become a log flood. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	pc_debug("exporter: %s", buf);
}

static int parse_port(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	uint64_t port;

	if (pc_parse_u64(s, 0, 65535, &port)) {
		snprintf(err, errlen, "bad port '%s': expected a number 0..65535", s);
		return -EINVAL;
	}
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	return 0;
}

int pc_exporter_parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen,
			     char *err, size_t errlen)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *colon;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (!spec || !*spec) {
		snprintf(err, errlen,
			 "empty listen address: expected ADDR:PORT, [ADDR]:PORT or :PORT");
		return -EINVAL;
	}
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		char *pct;

		if (!end || end[1] != ':') {
			snprintf(err, errlen, "bad listen address '%s': expected [IPV6]:PORT",
				 spec);
			return -EINVAL;
		}
		hlen = (size_t)(end - spec - 1);
		if (hlen >= sizeof(host)) {
			snprintf(err, errlen, "bad listen address '%s': address too long", spec);
			return -EINVAL;
		}
		memcpy(host, spec + 1, hlen);
		host[hlen] = '\0';
		s6->sin6_family = AF_INET6;
		pct = strchr(host, '%');
		if (pct) {
			*pct++ = '\0';
			s6->sin6_scope_id = if_nametoindex(pct);
			if (!s6->sin6_scope_id) {
				snprintf(err, errlen, "bad listen address '%s': no interface '%s'",
					 spec, pct);
				return -EINVAL;
			}
		}
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			snprintf(err, errlen,
				 "bad listen address '%s': '%s' is not an IPv6 address", spec,
				 host);
			return -EINVAL;
		}
		*sslen = sizeof(*s6);
		return parse_port(end + 2, ss, err, errlen);
	}

	colon = strrchr(spec, ':');
	s4->sin_family = AF_INET;
	*sslen = sizeof(*s4);
	if (!colon || colon == spec) {
		/* "PORT" or ":PORT": loopback, so exposing the metrics is a choice made
		 * by writing an address, never a default. */
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return parse_port(colon ? colon + 1 : spec, ss, err, errlen);
	}
	hlen = (size_t)(colon - spec);
	if (memchr(spec, ':', hlen)) {
		snprintf(err, errlen,
			 "bad listen address '%s': write IPv6 addresses in brackets, "
			 "e.g. [::1]:9464",
			 spec);
		return -EINVAL;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "bad listen address '%s': address too long", spec);
		return -EINVAL;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (!strcmp(host, "localhost")) {
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
		snprintf(err, errlen,
			 "bad listen address '%s': '%s' is not a numeric IPv4 address "
			 "(IPv6: [ADDR]:PORT)",
			 spec, host);
		return -EINVAL;
	}
	return parse_port(colon + 1, ss, err, errlen);
}

static struct MHD_Response *fixed(const char *body, const char *type)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return r;
}

static void free_fixed(struct pc_exporter *ex)
{
	if (ex->r_index)
		MHD_destroy_response(ex->r_index);
	if (ex->r_not_found)
		MHD_destroy_response(ex->r_not_found);
	if (ex->r_not_allowed)
		MHD_destroy_response(ex->r_not_allowed);
	if (ex->r_no_sample)
		MHD_destroy_response(ex->r_no_sample);
}

static const char *bind_hint(int err)
{
	switch (err) {
	case EADDRINUSE:
		return "; another process listens there: choose another --listen port";
	case EADDRNOTAVAIL:
		return "; the address is not on this host: use one of its addresses or 0.0.0.0";
	case EACCES:
		return "; ports below 1024 need CAP_NET_BIND_SERVICE: use a higher port";
	default:
		return "";
	}
}

int pc_exporter_start(const char *listen_spec, struct pc_exporter **out)
{
	struct sockaddr_storage ss;
	struct pc_exporter *ex;
	char err[160], addr[INET6_ADDRSTRLEN];
	socklen_t sslen;
	int fd, one = 1, ret;

	*out = NULL;
	ret = pc_exporter_parse_listen(listen_spec, &ss, &sslen, err, sizeof(err));
	if (ret) {
		pc_err("--listen: %s", err);
		return ret;
	}
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));

	/* Our own socket rather than MHD's: bind's errno is what makes the error line
	 * say "address already in use" instead of MHD's generic failure. */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		pc_err("metrics exporter: socket: %s", strerror(-ret));
		return ret;
	}
	/* A restarted daemon must not fail on the previous one's TIME_WAIT connections;
	 * Linux still refuses a port another socket listens on. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) || listen(fd, 64)) {
		ret = -errno;
		pc_err("metrics exporter: cannot listen on %s: %s%s", listen_spec, strerror(-ret),
		       bind_hint(-ret));
		close(fd);
		return ret;
	}
	sslen = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sslen);

	ex = calloc(1, sizeof(*ex));
	if (!ex) {
		close(fd);
		pc_err("metrics exporter: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&ex->lock, NULL);
	ex->want_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ex->want_fd < 0) {
		ret = -errno;
		pc_err("metrics exporter: eventfd: %s", strerror(errno));
		goto err_free;
	}
	ex->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						  : ((struct sockaddr_in *)&ss)->sin_port);
	ex->r_index = fixed(INDEX_HTML, "text/html; charset=utf-8");
	ex->r_not_found = fixed(NOT_FOUND, "text/plain; charset=utf-8");
	ex->r_not_allowed = fixed(NOT_ALLOWED, "text/plain; charset=utf-8");
	ex->r_no_sample = fixed(NO_SAMPLE, "text/plain; charset=utf-8");
	if (!ex->r_index || !ex->r_not_found || !ex->r_not_allowed || !ex->r_no_sample) {
		ret = -ENOMEM;
		pc_err("metrics exporter: out of memory");
		goto err_free;
	}
	MHD_add_response_header(ex->r_not_allowed, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	MHD_add_response_header(ex->r_no_sample, MHD_HTTP_HEADER_RETRY_AFTER, "1");

	/* One internal polling thread (epoll where available) serves every connection, so
	 * a slow client costs a slot, never a thread, and nothing here runs on the
	 * daemon's sampling thread. */
	ex->mhd = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
			(ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, handle, ex, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)PC_EXPORTER_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)PC_EXPORTER_MAX_CONNS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)PC_EXPORTER_MAX_CONNS_PER_IP,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PC_EXPORTER_MEMORY_LIMIT,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!ex->mhd) {
		ret = -EIO;
		pc_err("metrics exporter: cannot start the HTTP server on %s (libmicrohttpd); "
		       "run with -v for its reason",
		       listen_spec);
		goto err_free;
	}
	if (ss.ss_family == AF_INET6)
		pc_info("serving metrics on http://[%s]:%d/metrics", addr, ex->port);
	else
		pc_info("serving metrics on http://%s:%d/metrics", addr, ex->port);
	*out = ex;
	return 0;

err_free:
	close(fd);
	if (ex->want_fd >= 0)
		close(ex->want_fd);
	free_fixed(ex);
	pthread_mutex_destroy(&ex->lock);
	free(ex);
	return ret;
}

/* Wake every parked scrape (ex->lock held). */
static void resume_waiting(struct pc_exporter *ex)
{
	int i;

	for (i = 0; i < ex->n_waiting; i++)
		MHD_resume_connection(ex->waiting[i]);
	ex->n_waiting = 0;
}

void pc_exporter_publish(struct pc_exporter *ex, char *text)
{
	struct pc_snapshot *s, *old;

	if (!ex || !text) {
		free(text);
		return;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		/* Keep serving the previous sample; its timestamp shows it is old. */
		pc_warn("metrics exporter: out of memory, keeping the previous sample");
		free(text);
		pthread_mutex_lock(&ex->lock);
		ex->cur_seq = ex->sampled; /* nothing newer is coming for this sample */
		ex->want_pending = false;
		resume_waiting(ex);
		pthread_mutex_unlock(&ex->lock);
		return;
	}
	atomic_init(&s->refs, 1);
	s->text = text;
	s->len = strlen(text);
	pthread_mutex_lock(&ex->lock);
	old = ex->cur;
	ex->cur = s;
	ex->cur_seq = ex->sampled;
	ex->want_pending = false;
	resume_waiting(ex);
	pthread_mutex_unlock(&ex->lock);
	/* Freed here only if no scrape holds it; otherwise by the last scrape's callback. */
	snapshot_put(old);
}

void pc_exporter_sampled(struct pc_exporter *ex)
{
	if (!ex)
		return;
	pthread_mutex_lock(&ex->lock);
	ex->sampled++;
	pthread_mutex_unlock(&ex->lock);
}

int pc_exporter_want_fd(const struct pc_exporter *ex)
{
	return ex ? ex->want_fd : -1;
}

bool pc_exporter_take_want(struct pc_exporter *ex)
{
	uint64_t n;

	return ex && read(ex->want_fd, &n, sizeof(n)) == sizeof(n);
}

int pc_exporter_port(const struct pc_exporter *ex)
{
	return ex ? ex->port : -1;
}

void pc_exporter_stop(struct pc_exporter *ex)
{
	if (!ex)
		return;
	/* Parked scrapes go first (MHD must not stop with suspended connections); then the
	 * server thread is joined and every connection ended, releasing their snapshots. */
	pthread_mutex_lock(&ex->lock);
	if (ex->want_fd >= 0)
		close(ex->want_fd);
	ex->want_fd = -1;
	resume_waiting(ex);
	pthread_mutex_unlock(&ex->lock);
	MHD_stop_daemon(ex->mhd);
	free_fixed(ex);
	snapshot_put(ex->cur);
	pthread_mutex_destroy(&ex->lock);
	free(ex);
}
