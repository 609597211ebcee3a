/* SPDX-License-Identifier: GPL-2.0 */
/* log.h: one small logging module with levels; libbpf/libxdp chatter is demoted one level. */
#ifndef PC_LOG_H
#define PC_LOG_H

enum pc_log_level {
	PC_LOG_ERROR = 0,
	PC_LOG_WARN = 1,
	PC_LOG_INFO = 2,
	PC_LOG_DEBUG = 3,
};

/* Messages above this level are not printed (default INFO; -v raises it). */
void pc_log_set_level(int level);
int pc_log_get_level(void);
/* Prefix every line with a UTC timestamp (the daemon does; CLI commands do not). */
void pc_log_set_timestamps(int on);
/* Route libbpf's and libxdp's messages through pc_log, one level lower than they ask. */
void pc_log_hook_libs(void);

void pc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pc_err(...)   pc_log(PC_LOG_ERROR, __VA_ARGS__)
#define pc_warn(...)  pc_log(PC_LOG_WARN, __VA_ARGS__)
#define pc_info(...)  pc_log(PC_LOG_INFO, __VA_ARGS__)
#define pc_debug(...) pc_log(PC_LOG_DEBUG, __VA_ARGS__)

#endif
