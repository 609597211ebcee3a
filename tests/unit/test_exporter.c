// SPDX-License-Identifier: GPL-2.0
/* test_exporter.c: --listen parsing, and the HTTP answers of the exporter on a loopback port. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "exporter.h"
#include "log.h"

static void expect_v4(const char *spec, const char *addr, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	char err[160] = "", buf[INET_ADDRSTRLEN];
	socklen_t len = 0;

	if (pc_exporter_parse_listen(spec, &ss, &len, err, sizeof(err)))
		fail_msg("'%s' refused: %s", spec, err);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(*s4));
	inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf));
	assert_string_equal(buf, addr);
	assert_int_equal(ntohs(s4->sin_port), port);
}

static void expect_v6(const char *spec, const char *addr, int port, unsigned int scope)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	char err[160] = "", buf[INET6_ADDRSTRLEN];
	socklen_t len = 0;

	if (pc_exporter_parse_listen(spec, &ss, &len, err, sizeof(err)))
		fail_msg("'%s' refused: %s", spec, err);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(*s6));
	inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof(buf));
	assert_string_equal(buf, addr);
	assert_int_equal(ntohs(s6->sin6_port), port);
	assert_int_equal(s6->sin6_scope_id, scope);
}

static void expect_bad(const char *spec, const char *why)
{
	struct sockaddr_storage ss;
	char err[160] = "";
	socklen_t len;

	assert_int_equal(pc_exporter_parse_listen(spec, &ss, &len, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("'%s': reason '%s' does not say '%s'", spec ? spec : "(null)", err, why);
}

static void test_parse_listen(void **state)
{
	(void)state;
	/* No address: loopback, never every interface. */
	expect_v4("9464", "127.0.0.1", 9464);
	expect_v4(":9464", "127.0.0.1", 9464);
	expect_v4("localhost:80", "127.0.0.1", 80);
	expect_v4("0.0.0.0:9464", "0.0.0.0", 9464);
	expect_v4("192.0.2.7:65535", "192.0.2.7", 65535);
	expect_v4("127.0.0.1:0", "127.0.0.1", 0);
	expect_v6("[::1]:9464", "::1", 9464, 0);
	expect_v6("[::]:1", "::", 1, 0);
	expect_v6("[2001:db8::5]:9464", "2001:db8::5", 9464, 0);
	expect_v6("[fe80::1%lo]:9464", "fe80::1", 9464, 1);

	expect_bad(NULL, "empty");
	expect_bad("", "empty");
	expect_bad(":", "bad port");
	expect_bad("9464x", "bad port");
	expect_bad("65536", "bad port");
	expect_bad("127.0.0.1:-1", "bad port");
	expect_bad("127.0.0.1: 80", "bad port");
	expect_bad("127.0.0.1:", "bad port");
	expect_bad("::1:9464", "brackets");
	expect_bad("[::1]9464", "expected [IPV6]:PORT");
	expect_bad("[::1", "expected [IPV6]:PORT");
	expect_bad("[127.0.0.1]:80", "not an IPv6 address");
	expect_bad("[fe80::1%nosuchif0]:80", "no interface 'nosuchif0'");
	expect_bad("example.com:80", "not a numeric IPv4 address");
	expect_bad("256.1.1.1:80", "not a numeric IPv4 address");
}

/* One HTTP exchange: send req, read the whole answer (the server closes). */
static char *http(int port, const char *req)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	struct timeval tv = {.tv_sec = 5};
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static void expect_answer(int port, const char *req, const char *status, const char *has)
{
	char *r = http(port, req);

	if (strncmp(r, status, strlen(status)))
		fail_msg("%s: answer starts '%.40s', not '%s'", req, r, status);
	if (has && !strstr(r, has))
		fail_msg("%s: answer lacks '%s':\n%s", req, has, r);
	free(r);
}

static void test_http(void **state)
{
	struct pc_exporter *ex, *ex2;
	char spec[32], *big;
	int port;

	(void)state;
	pc_log_set_level(PC_LOG_ERROR);
	assert_int_equal(pc_exporter_start("127.0.0.1:0", &ex), 0);
	port = pc_exporter_port(ex);
	assert_true(port > 0);

	/* Before the first sample: 503, so Prometheus shows the target as not ready. */
	expect_answer(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		      "HTTP/1.1 503", "no sample yet");
	pc_exporter_publish(ex, strdup("portcanary_build_info{version=\"1\"} 1\n"));
	expect_answer(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		      "HTTP/1.1 200", "\r\n\r\nportcanary_build_info{version=\"1\"} 1\n");
	expect_answer(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		      "HTTP/1.1 200", "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
	/* A query string does not change the path. */
	expect_answer(port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n", "HTTP/1.1 200", NULL);
	/* Publishing replaces the text. */
	pc_exporter_publish(ex, strdup("second 2\n"));
	expect_answer(port, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200", "\r\n\r\nsecond 2\n");
	expect_answer(port, "HEAD /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200",
		      "Content-Length: 9\r\n");
	expect_answer(port, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200", "<a href=\"/metrics\">");
	expect_answer(port, "GET /metricsx HTTP/1.0\r\n\r\n", "HTTP/1.1 404", NULL);
	expect_answer(port, "GET /favicon.ico HTTP/1.0\r\n\r\n", "HTTP/1.1 404", NULL);
	expect_answer(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
		      "HTTP/1.1 405", "Allow: GET, HEAD\r\n");
	expect_answer(port, "DELETE / HTTP/1.0\r\n\r\n", "HTTP/1.1 405", NULL);
	/* Garbage gets a 400 and the server goes on. */
	expect_answer(port, "\x01\x02 garbage\r\n\r\n", "HTTP/1.1 400", NULL);
	expect_answer(port, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200", NULL);

	/* A text far larger than the per-connection memory limit is streamed whole. */
	big = malloc(4 << 20);
	memset(big, 'x', (4 << 20) - 2);
	big[(4 << 20) - 2] = '\n';
	big[(4 << 20) - 1] = '\0';
	pc_exporter_publish(ex, big);
	{
		char *r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
		char *body = strstr(r, "\r\n\r\n");

		assert_non_null(body);
		assert_int_equal(strlen(body + 4), (4 << 20) - 1);
		free(r);
	}

	/* The port is taken: a clear -EADDRINUSE. */
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	assert_int_equal(pc_exporter_start(spec, &ex2), -EADDRINUSE);
	assert_null(ex2);
	assert_int_equal(pc_exporter_start("127.0.0.1:99999", &ex2), -EINVAL);
	assert_null(ex2);
	pc_exporter_stop(ex);
	/* Stopped: the port is free again. */
	assert_int_equal(pc_exporter_start(spec, &ex2), 0);
	pc_exporter_stop(ex2);
	/* Without an exporter (no --listen) publish just frees the text. */
	pc_exporter_publish(NULL, strdup("x"));
	pc_exporter_stop(NULL);
}

/* The sampling thread's side of on-demand formatting: wait for a scrape's want, "format". */
struct sampler_side {
	struct pc_exporter *ex;
	int formatted; /* how many times the exposition was formatted */
	int rounds;    /* wants to serve before returning */
};

static void *sampler_thread(void *arg)
{
	struct sampler_side *sd = arg;
	struct pollfd pfd = {.fd = pc_exporter_want_fd(sd->ex), .events = POLLIN};
	char text[64];

	while (sd->rounds > 0 && poll(&pfd, 1, 5000) == 1) {
		if (!pc_exporter_take_want(sd->ex))
			continue;
		snprintf(text, sizeof(text), "formatted %d\n", ++sd->formatted);
		pc_exporter_publish(sd->ex, strdup(text));
		sd->rounds--;
	}
	return NULL;
}

struct client_side {
	int port;
	char *answer;
};

static void *client_thread(void *arg)
{
	struct client_side *c = arg;

	c->answer = http(c->port, "GET /metrics HTTP/1.0\r\n\r\n");
	return NULL;
}

/*
 * Formatted on demand: nothing until a scrape wants a sample, then once for that sample
 * however many scrapes come; a scrape waits for it without holding the server thread, and
 * stopping the exporter with a scrape waiting neither hangs nor loses it.
 */
static void test_on_demand(void **state)
{
	struct sampler_side sd = {.rounds = 2};
	struct client_side c[3];
	struct pollfd pfd;
	pthread_t st, ct[3];
	int port, i;

	(void)state;
	pc_log_set_level(PC_LOG_ERROR);
	assert_int_equal(pc_exporter_start("127.0.0.1:0", &sd.ex), 0);
	port = pc_exporter_port(sd.ex);
	pfd = (struct pollfd){.fd = pc_exporter_want_fd(sd.ex), .events = POLLIN};
	/* samples without a scrape: no want, nothing formatted */
	pc_exporter_sampled(sd.ex);
	pc_exporter_sampled(sd.ex);
	assert_int_equal(poll(&pfd, 1, 50), 0);
	assert_int_equal(pthread_create(&st, NULL, sampler_thread, &sd), 0);
	/* three scrapes of the same sample at once: formatted once, all three served it */
	for (i = 0; i < 3; i++) {
		c[i] = (struct client_side){.port = port};
		assert_int_equal(pthread_create(&ct[i], NULL, client_thread, &c[i]), 0);
	}
	for (i = 0; i < 3; i++) {
		pthread_join(ct[i], NULL);
		assert_non_null(strstr(c[i].answer, "\r\n\r\nformatted 1\n"));
		free(c[i].answer);
	}
	/* a scrape of a sample already formatted: served from the text, no want */
	expect_answer(port, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200", "formatted 1\n");
	assert_int_equal(sd.formatted, 1);
	/* the next sample: the next scrape formats again */
	pc_exporter_sampled(sd.ex);
	expect_answer(port, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200", "formatted 2\n");
	pthread_join(st, NULL);
	assert_int_equal(sd.formatted, 2);
	/* a scrape waiting when the exporter stops gets the text there is */
	pc_exporter_sampled(sd.ex);
	c[0] = (struct client_side){.port = port};
	assert_int_equal(pthread_create(&ct[0], NULL, client_thread, &c[0]), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1); /* it is parked */
	pc_exporter_stop(sd.ex);
	pthread_join(ct[0], NULL);
	assert_true(!strncmp(c[0].answer, "HTTP/1.1 200", 12) || !c[0].answer[0]);
	free(c[0].answer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_on_demand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
