/*
 * asset.c: the asset side of one session. The address is resolved without
 * blocking (numeric at once, names through evdns), checked against `egress`,
 * and exactly the checked address is connected to, by us, with a timeout;
 * only then does libssh get the socket. The asset's host key must be one of
 * the pinned `hostkey` lines; otherwise nothing is sent, the vendor is refused
 * and hostkey.mismatch audited. An asset with `legacy-algorithms = yes` is
 * also offered old kex, ciphers, MACs and ssh-rsa, and each connect to it is
 * audited as asset.legacy. Login uses the vaulted key or password, which
 * the vendor never sees. Then the channel with the vendor's pty, env and shell
 * or exec. Every step returns SSH_AGAIN until done and is retried on the next
 * readiness event. An asset with `reuse = yes` keeps the logged-in connection
 * for the next sessions (assetpool.c): they only open a channel on it, and
 * make their own connection once if it refuses.
 *
 * libssh makes the socket blocking again when its connect completes; the
 * O_NONBLOCK flag is restored after every connect step, or one slow asset
 * would freeze the whole broker.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <libssh/libssh.h>

#include "broker/broker.h"

#define ASSET_CIPHERS "aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
	"chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr"
#define ASSET_KEX "curve25519-sha256,curve25519-sha256@libssh.org," \
	"ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521," \
	"diffie-hellman-group18-sha512,diffie-hellman-group16-sha512," \
	"diffie-hellman-group-exchange-sha256,diffie-hellman-group14-sha256"
#define ASSET_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com," \
	"hmac-sha2-256,hmac-sha2-512"
/* `legacy-algorithms = yes`: offered after the modern ones, for old OT
 * devices; libssh drops any it was built without. */
#define ASSET_LEGACY_CIPHERS ",aes128-cbc,3des-cbc"
#define ASSET_LEGACY_KEX ",diffie-hellman-group14-sha1,diffie-hellman-group1-sha1"
#define ASSET_LEGACY_MACS ",hmac-sha1"

enum upstream_state {
	UP_RESOLVE, UP_TCP, UP_HANDSHAKE, UP_LOGIN, UP_CHANNEL, UP_PTY, UP_ENV,
	UP_START, UP_READY, UP_DONE
};

struct upstream {
	struct session *s;
	const struct policy_asset *asset;	/* s->policy keeps it alive */
	enum upstream_state state;
	struct evdns_getaddrinfo_request *dns;
	int fd;				/* ours until libssh takes it */
	char addr[INET6_ADDRSTRLEN + 16];
	struct event *connev;
	struct event *timer;		/* connect deadline, then keepalive */
	ssh_session ssh;
	struct bridge *bridge;
	ssh_channel ch;
	struct vault_secret secret;
	int have_secret;
	int closed;
	size_t envi;
	struct assetlink *link;		/* reuse = yes: ssh and bridge are its */
	int retried;			/* fell back from a link once */
	struct sockaddr_storage sa;	/* the address connected to */
	socklen_t salen;
};

static void asset_io_cb(void *arg);

static struct server *
asset_server(const struct upstream *up)
{
	return up->s->conn->srv;
}

static void
asset_fail(struct upstream *up, const char *event, const char *fmt, ...)
    OTG_PRINTF(3, 4);

static void
asset_fail(struct upstream *up, const char *event, const char *fmt, ...)
{
	char reason[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	up->state = UP_DONE;
	session_refuse(up->s, event, reason);
}

static void
asset_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *up = arg;
	struct timeval tv = { (time_t)asset_server(up)->conf->keepalive, 0 };

	(void)fd;
	(void)what;
	if (up->state != UP_READY)
		return;
	/* the first call collects the last reply, the second sends */
	ssh_send_keepalive(up->ssh);
	ssh_send_keepalive(up->ssh);
	bridge_update(up->bridge);
	evtimer_add(up->timer, &tv);
}

static void
asset_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *up = arg;

	(void)fd;
	(void)what;
	asset_fail(up, "asset.unreachable", "no answer from %s within %llus", up->addr,
	    (unsigned long long)asset_server(up)->conf->connect_timeout);
}

static int
asset_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* "ssh-ed25519 AAAA..." lines -> the host key algorithms to ask for; SHA-1
 * ssh-rsa signatures only with legacy-algorithms. */
static void
asset_hostkey_algorithms(const struct policy_asset *a, char *out, size_t outsz)
{
	struct strlist w;
	const char *add;
	size_t i;

	out[0] = '\0';
	for (i = 0; i < a->hostkeys.n; i++) {
		if (strlist_split(a->hostkeys.v[i], &w) != 0)
			continue;
		if (w.n >= 1) {
			add = strcmp(w.v[0], "ssh-rsa") != 0 ? w.v[0] :
			    a->legacy_algorithms ? "rsa-sha2-512,rsa-sha2-256,ssh-rsa" :
			    "rsa-sha2-512,rsa-sha2-256";
			if (strstr(out, add) == NULL && strlen(out) + strlen(add) + 2 < outsz) {
				if (out[0] != '\0')
					strcat(out, ",");
				strcat(out, add);
			}
		}
		strlist_free(&w);
	}
}

static int
asset_hostkey_pinned(const struct policy_asset *a, const ssh_key key)
{
	struct strlist w;
	ssh_key k;
	size_t i;
	int found = 0;

	for (i = 0; i < a->hostkeys.n && !found; i++) {
		if (strlist_split(a->hostkeys.v[i], &w) != 0)
			continue;
		if (w.n >= 2 && ssh_pki_import_pubkey_base64(w.v[1],
		    ssh_key_type_from_name(w.v[0]), &k) == SSH_OK) {
			found = ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0;
			ssh_key_free(k);
		}
		strlist_free(&w);
	}
	return found;
}

static int
asset_check_hostkey(struct upstream *up)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	int ok;

	if (ssh_get_server_publickey(up->ssh, &key) != SSH_OK) {
		asset_fail(up, "asset.unreachable", "the asset sent no host key");
		return -1;
	}
	if ((ok = asset_hostkey_pinned(up->asset, key)))
		goto out;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	server_audit(asset_server(up), "hostkey.mismatch", (struct audit_field[]){
	    AUDIT_STR("conn", up->s->conn->id), AUDIT_STR("session", up->s->id),
	    AUDIT_STR("user", up->s->conn->user), AUDIT_STR("asset", up->asset->name),
	    AUDIT_STR("address", up->addr),
	    AUDIT_STR("type", ssh_key_type_to_char(ssh_key_type(key))),
	    AUDIT_STR("fingerprint", fp ? fp : "?") }, 7);
	asset_fail(up, NULL, "host key mismatch: the asset offered %s %s, which is not "
	    "pinned; nothing was sent to it", ssh_key_type_to_char(ssh_key_type(key)),
	    fp ? fp : "?");
out:
	if (fp != NULL)
		ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return ok ? 0 : -1;
}

/* Each connect that may have used an old algorithm is on the audit trail. */
static void
asset_audit_legacy(struct upstream *up)
{
	const char *cipher = ssh_get_cipher_in(up->ssh);
	const char *kex = ssh_get_kex_algo(up->ssh);
	const char *mac = ssh_get_hmac_in(up->ssh);

	server_audit(asset_server(up), "asset.legacy", (struct audit_field[]){
	    AUDIT_STR("conn", up->s->conn->id), AUDIT_STR("session", up->s->id),
	    AUDIT_STR("user", up->s->conn->user), AUDIT_STR("asset", up->asset->name),
	    AUDIT_STR("address", up->addr), AUDIT_STR("kex", kex ? kex : "?"),
	    AUDIT_STR("cipher", cipher ? cipher : "?"),
	    AUDIT_STR("mac", mac ? mac : "?") }, 8);
}

/* The TCP connection is up: hand it to libssh. */
static void
asset_handshake_start(struct upstream *up)
{
	struct server *srv = asset_server(up);
	int legacy = up->asset->legacy_algorithms;
	const char *ciphers = legacy ? ASSET_CIPHERS ASSET_LEGACY_CIPHERS : ASSET_CIPHERS;
	const char *kex = legacy ? ASSET_KEX ASSET_LEGACY_KEX : ASSET_KEX;
	const char *macs = legacy ? ASSET_MACS ASSET_LEGACY_MACS : ASSET_MACS;
	char algos[512], host[INET6_ADDRSTRLEN + 16];
	bool no = false;
	int port = up->asset->port, nodelay = 1, rc;
	char *colon;

	snprintf(host, sizeof(host), "%s", up->addr);
	if ((colon = strchr(host, ' ')) != NULL)
		*colon = '\0';
	asset_hostkey_algorithms(up->asset, algos, sizeof(algos));
	if ((up->ssh = ssh_new()) == NULL ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_HOST, host) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_NODELAY, &nodelay) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_USER, up->asset->login) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_KEY_EXCHANGE, kex) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_CIPHERS_C_S, ciphers) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_CIPHERS_S_C, ciphers) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_HMAC_C_S, macs) != 0 ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_HMAC_S_C, macs) != 0 ||
	    (algos[0] != '\0' &&
	    ssh_options_set(up->ssh, SSH_OPTIONS_HOSTKEYS, algos) != 0) ||
	    ssh_options_set(up->ssh, SSH_OPTIONS_FD, &up->fd) != 0) {
		asset_fail(up, "asset.unreachable", "cannot set up the SSH client: %s",
		    up->ssh ? ssh_get_error(up->ssh) : "out of memory");
		return;
	}
	up->fd = -1;		/* libssh owns it now */
	ssh_set_blocking(up->ssh, 0);
	up->state = UP_HANDSHAKE;
	rc = ssh_connect(up->ssh);	/* first I/O: creates the poll context */
	asset_nonblock(ssh_get_fd(up->ssh));
	if (rc == SSH_ERROR) {
		asset_fail(up, "asset.unreachable", "SSH handshake with %s failed: %s",
		    up->addr, ssh_get_error(up->ssh));
		return;
	}
	if ((up->bridge = bridge_new(srv->base, up->ssh, asset_io_cb, up)) == NULL) {
		asset_fail(up, "asset.unreachable", "cannot watch the asset connection");
		return;
	}
	asset_step(up->s);
}

static void
asset_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *up = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	if (what & EV_TIMEOUT) {
		asset_fail(up, "asset.unreachable", "connect to %s timed out after %llus",
		    up->addr, (unsigned long long)asset_server(up)->conf->connect_timeout);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		asset_fail(up, "asset.unreachable", "connect to %s: %s", up->addr,
		    strerror(err));
		return;
	}
	asset_handshake_start(up);
	if (up->s->state != SESSION_CLOSED) {
		bridge_update(up->s->conn->bridge);
		asset_update(up);
	}
}

static void
asset_addr_text(const struct sockaddr *sa, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host,
		    sizeof(host));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
		    sizeof(host));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	snprintf(out, outsz, "%s port %d", host, port);
}

/* Take the first resolved address inside egress and connect to exactly it. */
static void
asset_resolved(struct upstream *up, const struct evutil_addrinfo *ai)
{
	struct server *srv = asset_server(up);
	struct timeval tv = { (time_t)srv->conf->connect_timeout, 0 };
	char first[sizeof(up->addr)] = "";

	for (; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (first[0] == '\0')
			asset_addr_text(ai->ai_addr, first, sizeof(first));
		if (cidr_list_contains(srv->conf->egress, srv->conf->negress, ai->ai_addr))
			break;
	}
	if (ai == NULL) {
		if (first[0] == '\0')
			asset_fail(up, "asset.unreachable", "%s has no address",
			    up->asset->address);
		else
			asset_fail(up, "policy.deny", "address %s is outside egress", first);
		return;
	}
	asset_addr_text(ai->ai_addr, up->addr, sizeof(up->addr));
	up->salen = ai->ai_addrlen < sizeof(up->sa) ? (socklen_t)ai->ai_addrlen :
	    (socklen_t)sizeof(up->sa);
	memcpy(&up->sa, ai->ai_addr, up->salen);
	up->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (up->fd == -1) {
		asset_fail(up, "asset.unreachable", "socket: %s", strerror(errno));
		return;
	}
	if (deadpeer_arm(up->fd, srv->conf->keepalive) != 0)
		log_warn("asset %s: keepalive options", up->addr);
	/* libssh sets SSH_OPTIONS_NODELAY only on sockets it opens itself */
	if (setsockopt(up->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)) == -1)
		log_warn("asset %s: TCP_NODELAY", up->addr);
	if (connect(up->fd, ai->ai_addr, ai->ai_addrlen) == -1 && errno != EINPROGRESS) {
		asset_fail(up, "asset.unreachable", "connect to %s: %s", up->addr,
		    strerror(errno));
		return;
	}
	up->state = UP_TCP;
	up->connev = event_new(srv->base, up->fd, EV_WRITE, asset_connected_cb, up);
	up->timer = evtimer_new(srv->base, asset_deadline_cb, up);
	if (up->connev == NULL || up->timer == NULL || event_add(up->connev, &tv) == -1) {
		asset_fail(up, "asset.unreachable", "out of memory");
		return;
	}
	/* the whole login must finish within the same time again */
	tv.tv_sec *= 2;
	evtimer_add(up->timer, &tv);
}

static void
asset_dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct upstream *up = arg;

	if (result == EVUTIL_EAI_CANCEL)
		return;		/* the session is gone */
	up->dns = NULL;
	if (result != 0)
		asset_fail(up, "asset.unreachable", "cannot resolve %s: %s",
		    up->asset->address, evutil_gai_strerror(result));
	else
		asset_resolved(up, res);
	if (res != NULL)
		evutil_freeaddrinfo(res);
	if (up->s->state != SESSION_CLOSED)
		bridge_update(up->s->conn->bridge);
}

/* Resolve, check egress, connect: a connection of our own. */
static int
asset_connect(struct upstream *up)
{
	struct server *srv = asset_server(up);
	const struct policy_asset *a = up->asset;
	struct evutil_addrinfo hints, *res = NULL;
	char port[8];

	up->state = UP_RESOLVE;
	snprintf(port, sizeof(port), "%u", a->port ? a->port : 22);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	if (evutil_getaddrinfo(a->address, port, &hints, &res) == 0) {
		asset_resolved(up, res);
		evutil_freeaddrinfo(res);
		return 0;
	}
	if (srv->dns == NULL) {
		asset_fail(up, "asset.unreachable", "cannot resolve %s: no resolver",
		    a->address);
		return -1;
	}
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	/* may call back at once (then returns NULL) */
	up->dns = evdns_getaddrinfo(srv->dns, a->address, port, &hints, asset_dns_cb, up);
	return 0;
}

/* reuse = yes: which connection carries the session, audited per session. */
static void
asset_audit_connect(struct upstream *up, int reused)
{
	server_audit(asset_server(up), "asset.connect", (struct audit_field[]){
	    AUDIT_STR("conn", up->s->conn->id), AUDIT_STR("session", up->s->id),
	    AUDIT_STR("user", up->s->conn->user), AUDIT_STR("asset", up->asset->name),
	    AUDIT_STR("address", up->addr), AUDIT_STR("link", assetpool_id(up->link)),
	    AUDIT_STR("reused", reused ? "true" : "false") }, 7);
}

/* A warm connection is there: only a channel to open on it. */
static int
asset_reuse(struct upstream *up, struct assetlink *l)
{
	struct server *srv = asset_server(up);
	struct timeval tv = { (time_t)srv->conf->connect_timeout, 0 };

	up->link = l;
	up->ssh = assetpool_ssh(l);
	up->bridge = assetpool_bridge(l);
	snprintf(up->addr, sizeof(up->addr), "%s", assetpool_addr(l));
	assetpool_attach(l, up);
	asset_audit_connect(up, 1);
	up->state = UP_CHANNEL;
	if ((up->ch = ssh_channel_new(up->ssh)) == NULL ||
	    (up->timer = evtimer_new(srv->base, asset_deadline_cb, up)) == NULL) {
		asset_fail(up, "asset.unreachable", "out of memory");
		return -1;
	}
	evtimer_add(up->timer, &tv);
	asset_step(up->s);
	return 0;
}

/* Leave the link (the session ends or moves to a connection of its own). */
static void
asset_unlink(struct upstream *up)
{
	if (up->ch != NULL) {
		relay_asset_callbacks_clear(up->s, up->ch);
		if (ssh_channel_is_open(up->ch))
			ssh_channel_close(up->ch);
		ssh_channel_free(up->ch);	/* libssh keeps it until the close */
		up->ch = NULL;
	}
	assetpool_detach(up->link, up);
	up->link = NULL;
	up->ssh = NULL;
	up->bridge = NULL;
}

/* The link refused the channel or died before it opened: once, make a
 * connection of our own instead. 0 when that started, -1 when it may not. */
static int
asset_relink(struct upstream *up)
{
	if (up->link == NULL || up->retried)
		return -1;
	if (assetpool_alive(up->link))
		assetpool_refused(up->link);
	asset_unlink(up);
	up->retried = 1;
	if (up->timer != NULL)
		event_free(up->timer);
	up->timer = NULL;
	asset_connect(up);
	return 0;
}

/* The login succeeded: keep the connection for the next sessions. */
static void
asset_share(struct upstream *up)
{
	struct assetlink *l;

	if (assetpool_adopt(asset_server(up), up->asset, up->ssh, up->bridge, up->addr,
	    (const struct sockaddr *)&up->sa, up->salen, &l) != 0) {
		log_warnx("asset %s: cannot keep the connection for reuse",
		    up->asset->name);
		return;
	}
	up->link = l;
	assetpool_attach(l, up);
	asset_audit_connect(up, 0);
}

int
asset_start(struct session *s, const struct policy_asset *a)
{
	struct assetlink *l;
	struct upstream *up;
	char reason[200];

	if (a->hostkeys.n == 0) {
		snprintf(reason, sizeof(reason), "no pinned host key: run otgate asset "
		    "trust %s", a->name);
		session_refuse(s, "policy.deny", reason);
		return -1;
	}
	if ((up = calloc(1, sizeof(*up))) == NULL) {
		session_refuse(s, NULL, "out of memory");
		return -1;
	}
	up->s = s;
	up->asset = a;
	up->fd = -1;
	s->up = up;
	if (a->reuse && (l = assetpool_find(s->conn->srv, a)) != NULL)
		return asset_reuse(up, l);
	return asset_connect(up);
}

static int
asset_login(struct upstream *up)
{
	char why[256];
	int rc;

	if (!up->have_secret) {
		if (vault_load(asset_server(up)->conf->vault, up->asset->credential ?
		    up->asset->credential : up->asset->name, &up->secret, why,
		    sizeof(why)) != 0) {
			asset_fail(up, "asset.unreachable", "no usable credential: %s", why);
			return SSH_ERROR;
		}
		up->have_secret = 1;
	}
	if (up->secret.key != NULL)
		rc = ssh_userauth_publickey(up->ssh, NULL, up->secret.key);
	else
		rc = ssh_userauth_password(up->ssh, NULL, up->secret.password);
	if (rc == SSH_AUTH_AGAIN)
		return SSH_AGAIN;
	vault_secret_clear(&up->secret);
	up->have_secret = 0;
	if (rc != SSH_AUTH_SUCCESS) {
		asset_fail(up, "asset.unreachable", "the asset refused the vaulted "
		    "credential for %s", up->asset->login);
		return SSH_ERROR;
	}
	return SSH_OK;
}

static int
asset_env(struct upstream *up)
{
	struct session *s = up->s;
	char name[80];
	const char *eq;
	int rc;

	while (up->envi < s->env.n) {
		eq = strchr(s->env.v[up->envi], '=');
		snprintf(name, sizeof(name), "%.*s", (int)(eq - s->env.v[up->envi]),
		    s->env.v[up->envi]);
		rc = ssh_channel_request_env(up->ch, name, eq + 1);
		if (rc == SSH_AGAIN)
			return SSH_AGAIN;
		/* an asset that does not accept the variable is not an error */
		up->envi++;
	}
	return SSH_OK;
}

/* One pass of the state machine; 1 to go on, 0 to wait, -1 failed. */
static int
asset_advance(struct upstream *up)
{
	struct session *s = up->s;
	int rc = SSH_ERROR;

	switch (up->state) {
	case UP_HANDSHAKE:
		rc = ssh_connect(up->ssh);
		asset_nonblock(ssh_get_fd(up->ssh));
		if (rc == SSH_AGAIN)
			return 0;
		if (rc != SSH_OK) {
			asset_fail(up, "asset.unreachable", "SSH handshake with %s failed: %s",
			    up->addr, ssh_get_error(up->ssh));
			return -1;
		}
		if (asset_check_hostkey(up) != 0)
			return -1;
		if (up->asset->legacy_algorithms)
			asset_audit_legacy(up);
		up->state = UP_LOGIN;
		return 1;
	case UP_LOGIN:
		if ((rc = asset_login(up)) == SSH_AGAIN)
			return 0;
		if (rc != SSH_OK)
			return -1;
		if (up->asset->reuse)
			asset_share(up);
		if ((up->ch = ssh_channel_new(up->ssh)) == NULL) {
			asset_fail(up, "asset.unreachable", "out of memory");
			return -1;
		}
		up->state = UP_CHANNEL;
		return 1;
	case UP_CHANNEL:
		rc = ssh_channel_open_session(up->ch);
		if (rc == SSH_ERROR && asset_relink(up) == 0)
			return 0;
		if (rc == SSH_OK) {
			relay_asset_callbacks(s, up->ch);
			up->state = s->pty ? UP_PTY : UP_ENV;
		}
		break;
	case UP_PTY:
		rc = ssh_channel_request_pty_size(up->ch, s->term, s->cols, s->rows);
		if (rc == SSH_OK) {
			s->resized = 0;
			up->state = UP_ENV;
		}
		break;
	case UP_ENV:
		if ((rc = asset_env(up)) == SSH_OK)
			up->state = UP_START;
		break;
	case UP_START:
		if (s->kind == POLICY_EXEC)
			rc = ssh_channel_request_exec(up->ch, s->command);
		else if (s->kind == POLICY_SFTP)
			rc = ssh_channel_request_subsystem(up->ch, "sftp");
		else
			rc = ssh_channel_request_shell(up->ch);
		if (rc == SSH_OK) {
			struct timeval tv = { (time_t)asset_server(up)->conf->keepalive, 0 };

			up->state = UP_READY;
			event_free(up->timer);
			up->timer = evtimer_new(asset_server(up)->base, asset_keepalive_cb, up);
			/* a link sends its own keepalives */
			if (up->timer != NULL && tv.tv_sec > 0 && up->link == NULL)
				evtimer_add(up->timer, &tv);
			session_asset_ready(s);
			return 0;
		}
		break;
	default:
		return 0;
	}
	if (rc == SSH_AGAIN)
		return 0;
	if (rc != SSH_OK) {
		asset_fail(up, "asset.unreachable", "the asset refused the %s: %s",
		    up->state == UP_START ? policy_channel_name(s->kind) : "session",
		    ssh_get_error(up->ssh));
		return -1;
	}
	return 1;
}

void
asset_step(struct session *s)
{
	struct upstream *up = s->up;

	if (up == NULL || up->ssh == NULL || up->state == UP_DONE)
		return;
	if (up->state != UP_READY &&
	    (ssh_get_status(up->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
		if (asset_relink(up) != 0)
			asset_fail(up, "asset.unreachable", "%s closed the connection",
			    up->addr);
		return;
	}
	while (s->state == SESSION_CONNECT && asset_advance(up) == 1)
		;
}

static void
asset_io_cb(void *arg)
{
	struct upstream *up = arg;

	if (up->state == UP_DONE || up->s->state == SESSION_CLOSED)
		return;
	session_step(up->s);
}

struct session *
asset_session(const struct upstream *up)
{
	return up->s;
}

ssh_channel
asset_channel(const struct upstream *up)
{
	return up->state == UP_READY ? up->ch : NULL;
}

ssh_session
asset_ssh(const struct upstream *up)
{
	return up->ssh;
}

void
asset_update(struct upstream *up)
{
	if (up->bridge != NULL)
		bridge_update(up->bridge);
}

void
asset_close(struct upstream *up)
{
	if (up->dns != NULL) {
		evdns_getaddrinfo_cancel(up->dns);
		up->dns = NULL;
	}
	if (up->connev != NULL)
		event_del(up->connev);
	if (up->timer != NULL)
		event_del(up->timer);
	if (up->closed)
		return;
	up->closed = 1;
	if (up->link != NULL)
		asset_unlink(up);
	if (up->ssh != NULL) {
		if (up->ch != NULL && ssh_channel_is_open(up->ch))
			ssh_channel_close(up->ch);
		/* closes libssh's socket, which quiets the bridge; frees the channel */
		ssh_disconnect(up->ssh);
		up->ch = NULL;
	}
	if (up->have_secret)
		vault_secret_clear(&up->secret);
	up->have_secret = 0;
	up->state = UP_DONE;
}

void
asset_free(struct upstream *up)
{
	if (up == NULL)
		return;
	asset_close(up);
	bridge_free(up->bridge);
	if (up->connev != NULL)
		event_free(up->connev);
	if (up->timer != NULL)
		event_free(up->timer);
	if (up->ssh != NULL)
		ssh_free(up->ssh);
	if (up->fd != -1)
		close(up->fd);
	free(up);
}
