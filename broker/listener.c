/*
 * listener.c: accepting vendors. One evconnlistener per `listen` address (IPv4
 * and IPv6). Unauthenticated connections are bounded like sshd's MaxStartups:
 * below START all are taken, from START on a connection is dropped with a
 * probability that rises from RATE% to 100% at FULL; and at most
 * max-startups-per-source come from one address. When the process runs out of
 * descriptors the listeners pause for a second instead of spinning.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "broker/broker.h"

struct listener_source {
	struct sockaddr_storage addr;	/* address only, port zeroed */
	unsigned count;
	struct listener_source *next;
};

struct listener_slot {
	struct listener *l;
	struct listener_source *source;
};

struct listener {
	const struct conf *conf;
	struct evconnlistener **lev;
	size_t nlev;
	struct event *resume;
	unsigned unauthenticated;
	struct listener_source *sources;
	listener_accept_cb *cb;
	void *arg;
};

/* Parse "a.b.c.d:port" or "[v6]:port" (checked by conf_load already). */
static int
listener_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL || (n = (size_t)(colon - s - 1)) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(colon + 2));
		*len = sizeof(*sin6);
		return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
	if ((colon = strrchr(s, ':')) == NULL || (n = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	*len = sizeof(*sin);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static int
listener_same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

/* sshd's random early drop between START and FULL unauthenticated connections */
static int
listener_drop(const struct listener *l)
{
	unsigned begin = l->conf->startups_begin, full = l->conf->startups_full;
	unsigned rate = l->conf->startups_rate, p;

	if (l->unauthenticated >= full)
		return 1;
	if (l->unauthenticated < begin)
		return 0;
	p = rate + (100 - rate) * (l->unauthenticated - begin) / (full - begin + 1);
	return arc4random_uniform(100) < p;
}

static void
listener_conn_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;
	struct listener_source *src;
	struct listener_slot *slot;
	char host[INET6_ADDRSTRLEN] = "?";

	(void)lev;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
	if (listener_drop(l)) {
		log_info("drop connection from %s: %u unauthenticated (max-startups)",
		    host, l->unauthenticated);
		close(fd);
		return;
	}
	for (src = l->sources; src != NULL; src = src->next)
		if (listener_same_host(&src->addr, sa))
			break;
	if (src != NULL && src->count >= l->conf->startups_per_source) {
		log_info("drop connection from %s: %u unauthenticated from it "
		    "(max-startups-per-source)", host, src->count);
		close(fd);
		return;
	}
	if (src == NULL) {
		if ((src = calloc(1, sizeof(*src))) == NULL) {
			close(fd);
			return;
		}
		memcpy(&src->addr, sa, (size_t)salen < sizeof(src->addr) ?
		    (size_t)salen : sizeof(src->addr));
		src->next = l->sources;
		l->sources = src;
	}
	if ((slot = calloc(1, sizeof(*slot))) == NULL) {
		close(fd);
		return;
	}
	slot->l = l;
	slot->source = src;
	src->count++;
	l->unauthenticated++;
	if (deadpeer_arm(fd, l->conf->keepalive) != 0)
		log_warn("connection from %s: keepalive options", host);
	l->cb(fd, sa, (socklen_t)salen, slot, l->arg);
}

static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < l->nlev; i++)
		evconnlistener_enable(l->lev[i]);
}

static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener *l = arg;
	struct timeval tv = { 1, 0 };
	int err = EVUTIL_SOCKET_ERROR();
	size_t i;

	(void)lev;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_warnx("accept: %s", evutil_socket_error_to_string(err));
		return;
	}
	log_warnx("accept: %s; pausing for a second",
	    evutil_socket_error_to_string(err));
	for (i = 0; i < l->nlev; i++)
		evconnlistener_disable(l->lev[i]);
	evtimer_add(l->resume, &tv);
}

/* IPv6 sockets are v6-only so [::]:P and 0.0.0.0:P can both be listed. */
static struct evconnlistener *
listener_bind(struct event_base *base, struct listener *l,
    const struct sockaddr_storage *ss, socklen_t len)
{
	struct evconnlistener *lev;
	int fd, one = 1, saved;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return NULL;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (const struct sockaddr *)ss, len) == -1)
		goto fail;
	lev = evconnlistener_new(base, listener_conn_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (lev == NULL)
		goto fail;
	return lev;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

int
listener_open(struct event_base *base, const struct conf *conf,
    listener_accept_cb *cb, void *arg, struct listener **out)
{
	struct listener *l;
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->conf = conf;
	l->cb = cb;
	l->arg = arg;
	if ((l->lev = calloc(conf->listen.n, sizeof(*l->lev))) == NULL ||
	    (l->resume = evtimer_new(base, listener_resume_cb, l)) == NULL)
		goto fail;
	for (i = 0; i < conf->listen.n; i++) {
		if (listener_parse(conf->listen.v[i], &ss, &len) != 0) {
			log_warnx("listen %s: not ADDRESS:PORT", conf->listen.v[i]);
			goto fail;
		}
		if ((l->lev[i] = listener_bind(base, l, &ss, len)) == NULL) {
			log_warn("listen %s", conf->listen.v[i]);
			goto fail;
		}
		l->nlev++;
		evconnlistener_set_error_cb(l->lev[i], listener_error_cb);
		log_info("listening on %s", conf->listen.v[i]);
	}
	*out = l;
	return 0;
fail:
	listener_close(l);
	return -1;
}

void
listener_release(struct listener_slot *slot)
{
	struct listener *l;
	struct listener_source **pp, *src;

	if (slot == NULL)
		return;
	l = slot->l;
	src = slot->source;
	l->unauthenticated--;
	if (--src->count == 0) {
		for (pp = &l->sources; *pp != src; pp = &(*pp)->next)
			;
		*pp = src->next;
		free(src);
	}
	free(slot);
}

void
listener_close(struct listener *l)
{
	struct listener_source *src;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nlev; i++)
		evconnlistener_free(l->lev[i]);
	free(l->lev);
	if (l->resume != NULL)
		event_free(l->resume);
	while ((src = l->sources) != NULL) {
		l->sources = src->next;
		free(src);
	}
	free(l);
}
