/*
 * main.c: otgated's start-up. Reads otgated.conf and the policy it names
 * (-t: check both and exit), then runs the one event loop until SIGTERM or
 * SIGINT. SIGHUP reopens the audit log (after logrotate) and reloads the
 * policy: validated first, swapped only if valid. systemd hears of start,
 * reload and stop through sdnotify. Started as root it binds, forks its
 * helpers and reads the host key, then drops to `user` (privdrop.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "broker/broker.h"

static void
usage(void)
{
	fprintf(stderr, "usage: otgated -f CONFIG [-D] [-t]\n");
	exit(2);
}

static void
main_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	sdnotify_stopping();
	event_base_loopbreak(base);
}

static void
main_reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)sig;
	(void)what;
	log_info("SIGHUP: reopening the audit log, reloading the policy");
	sdnotify_reloading();
	if (audit_reopen(srv->audit) != 0)
		log_warnx("audit log %s: cannot reopen; still writing the old file",
		    srv->conf->audit_log);
	server_reload(srv, NULL);
	sdnotify_ready();
}

/* Every session costs descriptors: take what the hard limit allows. */
static void
main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	int ch, foreground = 0, check = 0, r;
	struct conf *conf = NULL;
	struct policy *policy = NULL;
	struct event_base *base;
	struct event *sigterm, *sigint, *sighup;
	struct server srv;
	struct diag d;
	uid_t uid;
	gid_t gid;

	while ((ch = getopt(argc, argv, "f:Dt")) != -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 'D':
			foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (path == NULL)
		path = CONF_DEFAULT_PATH;
	log_init("otgated", foreground || check, getenv("OTGATED_DEBUG") ?
	    LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);

	diag_init(&d);
	r = conf_load(path, &d, &conf);
	if (r == 0)
		r = policy_load(conf->policy, &d, &policy);
	diag_print(&d, stderr);
	diag_free(&d);
	if (r != 0) {
		conf_free(conf);
		return 1;
	}
	if (check) {
		printf("%s: OK, policy %s\n", path, policy_hash(policy));
		policy_free(policy);
		conf_free(conf);
		return 0;
	}
	if (privdrop_harden() != 0 || privdrop_lookup(conf, &uid, &gid) != 0) {
		policy_free(policy);
		conf_free(conf);
		return 1;
	}
	main_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	if (ssh_init() != SSH_OK)
		fatalx("libssh initialisation failed");
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (server_start(&srv, base, conf, policy) != 0) {
		server_stop(&srv);
		event_base_free(base);
		return 1;
	}
	/* bound, helpers forked, host key read: root is no longer needed */
	if (privdrop_drop(srv.conf, uid, gid) != 0)
		fatalx("cannot drop privileges; stopping");
	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	sigterm = evsignal_new(base, SIGTERM, main_stop_cb, base);
	sigint = evsignal_new(base, SIGINT, main_stop_cb, base);
	sighup = evsignal_new(base, SIGHUP, main_reload_cb, &srv);
	if (sigterm == NULL || sigint == NULL || sighup == NULL ||
	    evsignal_add(sigterm, NULL) != 0 || evsignal_add(sigint, NULL) != 0 ||
	    evsignal_add(sighup, NULL) != 0)
		fatalx("cannot install signal handlers");
	/* last: daemon() and the set-up above make calls the filter refuses */
	if (sandbox_apply(&srv) != 0)
		fatalx("cannot apply the seccomp filter; stopping");
	sdnotify_ready();
	event_base_dispatch(base);
	server_stop(&srv);
	event_free(sigterm);
	event_free(sigint);
	event_free(sighup);
	event_base_free(base);
	ssh_finalize();
	log_info("stopped");
	return 0;
}
