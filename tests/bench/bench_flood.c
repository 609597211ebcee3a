// SPDX-License-Identifier: GPL-2.0
/*
 * bench_flood.c: the drop-path benchmark's load: small UDP datagrams to one address and
 * port, as fast as one thread per CPU can send them (sendmmsg, 64 a call), for a fixed
 * time. Prints the datagrams sent per second, all threads together.
 *
 * Over a veth pair the receiving side's whole path (IP, netfilter, the drop, kfree_skb and
 * whatever is attached to it) runs on the sending CPU, so with every CPU sending, the rate
 * is the inverse of the CPU time a datagram costs end to end: what a tracer on the drop
 * path adds shows up as a lower rate.
 *
 * usage: bench_flood ADDR PORT SECONDS   (IPv4; one thread per online CPU, each pinned)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH	   64
#define PAYLOAD	   18 /* a 60-byte frame: the minimum Ethernet frame's worth */
#define MAX_THREAD 256

struct flood {
	struct sockaddr_in dst;
	double secs;
	int cpu;
	unsigned long sent;
	int err;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *flood_run(void *arg)
{
	struct flood *f = arg;
	static const char payload[PAYLOAD];
	struct iovec iov = {.iov_base = (void *)payload, .iov_len = sizeof(payload)};
	struct mmsghdr m[BATCH];
	cpu_set_t set;
	double end;
	int fd, i, n;

	CPU_ZERO(&set);
	CPU_SET(f->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&f->dst, sizeof(f->dst))) {
		f->err = errno;
		return NULL;
	}
	memset(m, 0, sizeof(m));
	for (i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	end = mono() + f->secs;
	while (mono() < end) {
		n = sendmmsg(fd, m, BATCH, 0);
		if (n > 0)
			f->sent += n;
		else if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED &&
			 errno != EINTR)
			f->err = errno;
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct flood f[MAX_THREAD];
	pthread_t t[MAX_THREAD];
	unsigned long sent = 0;
	double secs, start;
	int ncpu, i, port;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_flood ADDR PORT SECONDS\n");
		return 2;
	}
	port = atoi(argv[2]);
	secs = atof(argv[3]);
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > MAX_THREAD)
		ncpu = MAX_THREAD;
	if (port < 1 || port > 65535 || secs <= 0 || secs > 600 || ncpu < 1) {
		fprintf(stderr, "bench_flood: a port 1-65535 and 0-600 seconds, please\n");
		return 2;
	}
	memset(f, 0, sizeof(f));
	for (i = 0; i < ncpu; i++) {
		f[i].dst.sin_family = AF_INET;
		f[i].dst.sin_port = htons(port);
		if (inet_pton(AF_INET, argv[1], &f[i].dst.sin_addr) != 1) {
			fprintf(stderr, "bench_flood: '%s' is not an IPv4 address\n", argv[1]);
			return 2;
		}
		f[i].secs = secs;
		f[i].cpu = i;
	}
	start = mono();
	for (i = 0; i < ncpu; i++)
		if (pthread_create(&t[i], NULL, flood_run, &f[i])) {
			fprintf(stderr, "bench_flood: cannot start a thread\n");
			return 2;
		}
	for (i = 0; i < ncpu; i++) {
		pthread_join(t[i], NULL);
		if (f[i].err) {
			fprintf(stderr, "bench_flood: sending: %s\n", strerror(f[i].err));
			return 2;
		}
		sent += f[i].sent;
	}
	printf("%.0f %lu\n", sent / (mono() - start), sent);
	return 0;
}
