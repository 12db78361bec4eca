/*
 * assetpool.c: warm asset connections (`reuse = yes`). A link is one
 * authenticated libssh client connection to an asset, made by asset.c for a
 * vendor session and then kept: the next vendor session for the same asset
 * and login opens its channel on it instead of making its own handshake and
 * login. Each session stays its own (decided, recorded, audited, limited and
 * killed as before); only the TCP connection and the asset-side login are
 * shared.
 *
 * A link is taken only while it still says what the policy and vault say now:
 * its identity is the asset's section (address, port, login, credential name,
 * pinned host keys, algorithms) and the vault entry's file (inode, size, times),
 * so a reload that changed the asset or `otgate asset credential` makes the
 * next session log in afresh; the old link closes once its sessions end. The
 * address it reached must still be inside egress. A link the asset refused a
 * channel on (OpenSSH MaxSessions, 10 by default) takes no more until one of
 * its sessions ends. Unused for `reuse-idle`, or dead, a link is closed; the
 * sessions on a link that dies end with "connection to the asset lost"
 * (relay.c sees it). Links are freed from their own timer, never from inside
 * the bridge callback that noticed their end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "broker/broker.h"

#define ASSETPOOL_USERS_MAX 64	/* channels on one link, whatever the asset allows */
#define ASSETPOOL_IDENTITY_MAX 4096

struct assetlink {
	struct server *srv;
	char id[33];
	char *asset;			/* the policy name */
	char *identity;			/* see assetpool_identity */
	char addr[INET6_ADDRSTRLEN + 16];
	struct sockaddr_storage sa;	/* the address connected to */
	ssh_session ssh;
	struct bridge *bridge;
	struct upstream *users[ASSETPOOL_USERS_MAX];
	size_t nusers;
	size_t cap;			/* the asset refused a channel beyond this; 0 none */
	uint64_t idle_secs;
	int closing;			/* dead, stale or idle: free it from the timer */
	struct event *idle;		/* reuse-idle, or at once when closing */
	struct event *keepalive;
	struct assetlink *next;
};

static void assetpool_io_cb(void *arg);

/* The vault entry's file as it is now: a rotated credential is a new file
 * (or the same file rewritten: a new ctime). */
static void
assetpool_vault_stamp(const struct server *srv, const char *name, char *out,
    size_t outsz)
{
	static const char *const suffix[] = { ".key", ".password" };
	char path[4096];
	struct stat st;
	size_t i;

	snprintf(out, outsz, "none");
	for (i = 0; i < 2; i++) {
		if (snprintf(path, sizeof(path), "%s/%s%s", srv->conf->vault, name,
		    suffix[i]) >= (int)sizeof(path) || stat(path, &st) != 0)
			continue;
		snprintf(out, outsz, "%s:%llu:%llu:%lld:%lld.%09ld:%lld.%09ld", suffix[i],
		    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		    st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
		return;
	}
}

/* Everything a login to the asset depends on, as one string; NULL when out
 * of memory. */
static char *
assetpool_identity(const struct server *srv, const struct policy_asset *a)
{
	const char *cred = a->credential != NULL ? a->credential : a->name;
	char stamp[256];
	struct buf b;
	size_t i;
	char *out = NULL;
	int r;

	assetpool_vault_stamp(srv, cred, stamp, sizeof(stamp));
	buf_init(&b, ASSETPOOL_IDENTITY_MAX);
	r = buf_printf(&b, "%s\n%u\n%s\n%s\n%d\n%s\n", a->address, (unsigned)a->port,
	    a->login, cred, a->legacy_algorithms, stamp);
	for (i = 0; r == 0 && i < a->hostkeys.n; i++)
		r = buf_printf(&b, "%s\n", a->hostkeys.v[i]);
	if (r == 0)
		r = buf_putc(&b, '\0');
	if (r == 0)
		out = strdup((const char *)buf_ptr(&b));
	buf_free(&b);
	return out;
}

static void
assetpool_free(struct assetlink *l)
{
	struct assetlink **pp;

	for (pp = &l->srv->links; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	log_info("asset link %.8s to %s (%s) closed", l->id, l->asset, l->addr);
	if (l->idle != NULL)
		event_free(l->idle);
	if (l->keepalive != NULL)
		event_free(l->keepalive);
	bridge_free(l->bridge);
	if (l->ssh != NULL) {
		ssh_disconnect(l->ssh);
		ssh_free(l->ssh);
	}
	free(l->asset);
	free(l->identity);
	free(l);
}

static void
assetpool_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct assetlink *l = arg;

	(void)fd;
	(void)what;
	if (l->nusers == 0)
		assetpool_free(l);
}

/* No new sessions on l; freed at once if none is on it, else when the last
 * one leaves. */
static void
assetpool_retire(struct assetlink *l)
{
	struct timeval now = { 0, 0 };

	l->closing = 1;
	if (l->nusers == 0)
		evtimer_add(l->idle, &now);
}

static void
assetpool_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct assetlink *l = arg;
	struct timeval tv = { (time_t)l->srv->conf->keepalive, 0 };

	(void)fd;
	(void)what;
	if (l->closing)
		return;
	/* the first call collects the last reply, the second sends */
	ssh_send_keepalive(l->ssh);
	ssh_send_keepalive(l->ssh);
	bridge_update(l->bridge);
	evtimer_add(l->keepalive, &tv);
}

int
assetpool_alive(const struct assetlink *l)
{
	return !l->closing && ssh_is_connected(l->ssh) &&
	    !(ssh_get_status(l->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR));
}

/* The link's socket moved: every session on it continues (or sees it die). */
static void
assetpool_io_cb(void *arg)
{
	struct assetlink *l = arg;
	struct session *ss[ASSETPOOL_USERS_MAX];
	size_t i, n = l->nusers;

	if (!assetpool_alive(l) && !l->closing) {
		log_info("asset link %.8s to %s: the connection ended (%zu sessions on "
		    "it)", l->id, l->asset, l->nusers);
		assetpool_retire(l);
	}
	/* a step may end its session, which leaves the link: step a copy */
	for (i = 0; i < n; i++) {
		ss[i] = asset_session(l->users[i]);
		ss[i]->refs++;
	}
	for (i = 0; i < n; i++) {
		if (ss[i]->state != SESSION_CLOSED)
			session_step(ss[i]);
		session_unref(ss[i]);
	}
}

struct assetlink *
assetpool_find(struct server *srv, const struct policy_asset *a)
{
	struct assetlink *l, *next, *found = NULL;
	char *identity;

	if ((identity = assetpool_identity(srv, a)) == NULL)
		return NULL;
	for (l = srv->links; l != NULL; l = next) {
		next = l->next;
		if (strcmp(l->asset, a->name) != 0 || l->closing)
			continue;
		if (strcmp(l->identity, identity) != 0) {
			/* made with an old policy or credential: never again */
			log_info("asset link %.8s to %s: the asset or its credential "
			    "changed; not reused", l->id, l->asset);
			assetpool_retire(l);
			continue;
		}
		if (!assetpool_alive(l)) {
			assetpool_retire(l);
			continue;
		}
		if (found == NULL && l->nusers < ASSETPOOL_USERS_MAX &&
		    (l->cap == 0 || l->nusers < l->cap) &&
		    cidr_list_contains(srv->conf->egress, srv->conf->negress,
		    (const struct sockaddr *)&l->sa))
			found = l;
	}
	free(identity);
	return found;
}

int
assetpool_adopt(struct server *srv, const struct policy_asset *a, ssh_session ssh,
    struct bridge *b, const char *addr, const struct sockaddr *sa, socklen_t salen,
    struct assetlink **out)
{
	struct timeval tv = { (time_t)srv->conf->keepalive, 0 };
	struct assetlink *l;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->srv = srv;
	server_newid(l->id);
	l->idle_secs = a->reuse_idle;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	memcpy(&l->sa, sa, (size_t)salen < sizeof(l->sa) ? (size_t)salen : sizeof(l->sa));
	if ((l->asset = strdup(a->name)) == NULL ||
	    (l->identity = assetpool_identity(srv, a)) == NULL ||
	    (l->idle = evtimer_new(srv->base, assetpool_idle_cb, l)) == NULL ||
	    (l->keepalive = evtimer_new(srv->base, assetpool_keepalive_cb, l)) == NULL) {
		l->ssh = NULL;
		assetpool_free(l);
		return -1;
	}
	l->ssh = ssh;
	l->bridge = b;
	bridge_retarget(b, assetpool_io_cb, l);
	if (tv.tv_sec > 0)
		evtimer_add(l->keepalive, &tv);
	l->next = srv->links;
	srv->links = l;
	log_info("asset link %.8s to %s (%s): kept for reuse", l->id, l->asset, l->addr);
	*out = l;
	return 0;
}

void
assetpool_attach(struct assetlink *l, struct upstream *up)
{
	if (l->nusers >= ASSETPOOL_USERS_MAX)
		return;		/* assetpool_find never offers a full link */
	l->users[l->nusers++] = up;
	evtimer_del(l->idle);
}

void
assetpool_detach(struct assetlink *l, struct upstream *up)
{
	struct timeval tv = { (time_t)l->idle_secs, 0 };
	size_t i;

	for (i = 0; i < l->nusers && l->users[i] != up; i++)
		;
	if (i == l->nusers)
		return;
	l->users[i] = l->users[--l->nusers];
	if (l->cap > 0 && l->nusers < l->cap)
		l->cap = 0;	/* a channel freed up: try again */
	bridge_update(l->bridge);
	if (l->nusers > 0)
		return;
	if (l->closing)
		tv.tv_sec = 0;
	evtimer_add(l->idle, &tv);
}

void
assetpool_refused(struct assetlink *l)
{
	if (l->nusers <= 1) {
		/* not a matter of how many: this link is of no more use */
		log_info("asset link %.8s to %s refused a channel with none open",
		    l->id, l->asset);
		assetpool_retire(l);
		return;
	}
	l->cap = l->nusers - 1;
	log_info("asset link %.8s to %s refused a channel with %zu open: the next "
	    "session makes a new connection", l->id, l->asset, l->cap);
}

ssh_session
assetpool_ssh(const struct assetlink *l)
{
	return l->ssh;
}

struct bridge *
assetpool_bridge(const struct assetlink *l)
{
	return l->bridge;
}

const char *
assetpool_id(const struct assetlink *l)
{
	return l->id;
}

const char *
assetpool_addr(const struct assetlink *l)
{
	return l->addr;
}

void
assetpool_stop(struct server *srv)
{
	while (srv->links != NULL)
		assetpool_free(srv->links);
}
