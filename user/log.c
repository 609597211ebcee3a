// SPDX-License-Identifier: GPL-2.0
/* log.c: leveled logging to stderr, and the print hooks for libbpf and libxdp. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static int log_level = PC_LOG_INFO;
static int log_timestamps;

void pc_log_set_level(int level)
{
	log_level = level;
}

int pc_log_get_level(void)
{
	return log_level;
}

void pc_log_set_timestamps(int on)
{
	log_timestamps = on;
}

static void vlog(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char ts[40] = "";

	if (level > log_level)
		return;
	if (log_timestamps) {
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ ",
			 now.tv_nsec / 1000000);
	}
	if (level <= PC_LOG_WARN || log_timestamps)
		fprintf(stderr, "%sportcanary: %s%s", ts, level <= PC_LOG_WARN ? names[level] : "",
			level <= PC_LOG_WARN ? ": " : "");
	vfprintf(stderr, fmt, ap);
	if (fmt[0] && fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

void pc_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* Library messages are context for our own error line (which says what failed
 * and what to do), so they are demoted: warnings show with -v, the rest with -vv. */
static int lib_print(int level, const char *fmt, va_list ap)
{
	int ours = level == LIBBPF_WARN ? PC_LOG_DEBUG : PC_LOG_DEBUG + 1;
	char line[1024];

	if (ours > log_level)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	pc_log(PC_LOG_DEBUG, "  %s", line);
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return lib_print(level, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return lib_print(level == LIBXDP_WARN ? LIBBPF_WARN : LIBBPF_DEBUG, fmt, ap);
}

void pc_log_hook_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
