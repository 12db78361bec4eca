/*
 * sandbox.c: the seccomp allow-list of the network-facing otgated process
 * (DESIGN.md section 6, `seccomp = enforce | log | off`). Applied after the
 * privilege drop, so the helpers forked before it keep what PAM needs. The list
 * is what the e2e and attack suites saw otgated call under strace -f (libssh,
 * OpenSSL, libevent, glibc's resolver and syslog, SQLite), and nothing that
 * changes ids, loads code or reaches other processes' memory.
 *
 * enforce: any other call raises SIGSYS; the handler writes one line to the
 * trail file STATE/sandbox.trail (opened beforehand; write and _exit are all it
 * does) and the process exits. The next start moves each trail line into the
 * hash-chained audit log as `sandbox.violation`. log: the kernel logs the call
 * and lets it run. Sanitizer builds run without a filter: their runtimes make
 * calls no release build does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "broker/broker.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif
#ifndef SANDBOX_SANITIZED
#define SANDBOX_SANITIZED 0
#endif

#define SANDBOX_TRAIL "sandbox.trail"
#define SANDBOX_TRAIL_MAX (64u * 1024)
#define SANDBOX_EXIT 70		/* EX_SOFTWARE: systemd's Restart=on-failure */

static const char *const sandbox_allowed[] = {
	/* memory, threads of the C library, time, randomness */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "futex",
	"set_robust_list", "rseq", "sched_yield", "sched_getaffinity",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "getrandom", "getpid", "gettid", "getppid", "getuid",
	"geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
	"uname", "sysinfo", "prlimit64", "getrlimit", "getrusage", "umask",
	"restart_syscall", "exit", "exit_group",
	/* signals: libevent's evsignal, abort() */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill",
	"kill",
	/* descriptors and files: recordings, seals, index, audit log, policy, vault */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "lseek", "close", "dup", "dup2", "dup3", "fcntl", "ioctl",
	"open", "openat", "stat", "fstat", "lstat", "newfstatat", "statx",
	"statfs", "fstatfs", "access", "faccessat", "faccessat2", "readlink",
	"readlinkat", "getdents64", "getcwd", "mkdir", "mkdirat", "rename",
	"renameat", "renameat2", "unlink", "unlinkat", "link", "linkat",
	"fsync", "fdatasync", "sync_file_range", "ftruncate", "fallocate", "fadvise64", "flock",
	"fchmod", "fchmodat", "chmod", "fchown", "utimensat", "pipe", "pipe2",
	"eventfd2",
	/* the loop */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"poll", "ppoll", "select", "pselect6",
	/* sockets: vendors, assets, DNS, syslog, control socket, auth helpers */
	"socket", "socketpair", "connect", "accept", "accept4", "bind", "listen",
	"shutdown", "getsockname", "getpeername", "getsockopt", "setsockopt",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	/* replacing an auth helper that died (it inherits this filter) */
	"clone", "clone3", "wait4", "waitid", "close_range",
};

static int sandbox_trail_fd = -1;

/* Async-signal-safe: digits by hand, one write, _exit. */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
	char line[96], num[24];
	size_t n = 0, k;
	ssize_t w;
	long v;
	const char *p;

	(void)sig;
	(void)uc;
	for (p = "seccomp: denied syscall "; *p != '\0'; p++)
		line[n++] = *p;
	v = si->si_syscall;
	k = 0;
	do {
		num[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && k < sizeof(num));
	while (k > 0)
		line[n++] = num[--k];
	line[n++] = '\n';
	/* nothing is left to do about a failed write: exit either way */
	w = sandbox_trail_fd != -1 ? write(sandbox_trail_fd, line, n) : 0;
	w = write(STDERR_FILENO, line, n);
	(void)w;
	_exit(SANDBOX_EXIT);
}

/* What the last run's trap left behind goes into the audit log, once. */
static void
sandbox_recover(struct server *srv, const char *path)
{
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int r;

	if ((r = file_read(path, SANDBOX_TRAIL_MAX, &text, &len)) != 0) {
		if (r != OTG_ERR_NOTFOUND && errno != ENOENT)
			log_warnx("%s: %s", path, otg_strerror(r));
		return;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "seccomp: denied syscall ", 24) != 0)
			continue;
		log_warnx("the last run was stopped by the sandbox: %s", line + 9);
		server_audit(srv, "sandbox.violation", (struct audit_field[]){
		    AUDIT_NUM("syscall", atol(line + 24)) }, 1);
	}
	free(text);
	if (unlink(path) == -1)
		log_warn("%s", path);
}

int
sandbox_apply(struct server *srv)
{
	enum sandbox_mode mode = (enum sandbox_mode)srv->conf->seccomp;
	struct sigaction sa;
	scmp_filter_ctx ctx = NULL;
	char path[4096];
	size_t i;
	int nr, rc = -1;

	if (snprintf(path, sizeof(path), "%s/%s", srv->conf->state, SANDBOX_TRAIL) >=
	    (int)sizeof(path)) {
		log_warnx("state %s: path too long", srv->conf->state);
		return -1;
	}
	sandbox_recover(srv, path);
	if (mode == SANDBOX_OFF)
		return 0;
	if (SANDBOX_SANITIZED) {
		log_info("seccomp: off in a sanitizer build");
		return 0;
	}
	if (mode == SANDBOX_ENFORCE) {
		sandbox_trail_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (sandbox_trail_fd == -1) {
			log_warn("%s", path);
			return -1;
		}
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sandbox_sigsys;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) == -1) {
			log_warn("sigaction(SIGSYS)");
			return -1;
		}
	}
	ctx = seccomp_init(mode == SANDBOX_ENFORCE ? SCMP_ACT_TRAP : SCMP_ACT_LOG);
	if (ctx == NULL) {
		log_warnx("seccomp_init failed");
		goto out;
	}
	/* every thread, should a library have started one already */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0) {
		log_warnx("seccomp: cannot cover every thread");
		goto out;
	}
	for (i = 0; i < sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]); i++) {
		/* a name this architecture lacks (open on arm64) is skipped */
		if ((nr = seccomp_syscall_resolve_name(sandbox_allowed[i])) == __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0) {
			log_warnx("seccomp: cannot allow %s", sandbox_allowed[i]);
			goto out;
		}
	}
	if ((nr = seccomp_load(ctx)) != 0) {
		log_warnx("seccomp_load: %s", strerror(-nr));
		goto out;
	}
	log_info("seccomp: %s", mode == SANDBOX_ENFORCE ? "enforce" : "log");
	rc = 0;
out:
	if (ctx != NULL)
		seccomp_release(ctx);
	return rc;
}
