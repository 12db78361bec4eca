/*
 * signer.c: the recording key's own process. The network-facing broker must
 * never hold the long-term recording key, or one exploit could forge history;
 * so otgated forks this small process before it drops privileges. The child
 * loads the key, then answers one kind of request on a socketpair: certify
 * this session key for this session ID at this time. It builds the signed
 * message itself, so a compromised broker can obtain certificates for keys of
 * its choosing but never a signature over anything else.
 *
 * Wire format (SOCK_SEQPACKET, one message each way):
 *   request  "OTS1" session[32] pub[32] time_ms(u64 BE)        76 bytes
 *   reply    status(u8, 0 = ok) sig[64] fingerprint[32]         97 bytes
 * and once at start, from the child, one status byte (0 = key loaded).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define SIGNER_MAGIC "OTS1"
#define SIGNER_REQ_LEN (4 + REC_ID_LEN + REC_ED25519_LEN + 8)
#define SIGNER_REPLY_LEN (1 + REC_SIG_LEN + REC_HASH_LEN)

struct signer {
	int fd;
	pid_t pid;
};

static int
signer_session_ok(const uint8_t *s)
{
	size_t i;

	for (i = 0; i < REC_ID_LEN; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* The child: answer requests until the broker closes its end. */
static OTG_NORETURN void
signer_serve(int fd, const char *key_path)
{
	uint8_t req[SIGNER_REQ_LEN + 1], reply[SIGNER_REPLY_LEN], status;
	char session[REC_ID_LEN + 1];
	uint64_t time_ms;
	void *pkey = NULL;
	ssize_t n;
	int i, r;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* a broker running as the same user must not ptrace the key out of us */
	prctl(PR_SET_DUMPABLE, 0);
	/* nothing of the broker's (listeners, sessions) stays open here */
	for (i = 3; i < fd; i++)
		close(i);
	closefrom(fd + 1);
	r = reckey_load_private(key_path, &pkey);
	status = (uint8_t)-r;
	if (send(fd, &status, 1, MSG_NOSIGNAL) != 1 || r != 0)
		_exit(1);
	for (;;) {
		n = recv(fd, req, sizeof(req), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		memset(reply, 0, sizeof(reply));
		reply[0] = (uint8_t)-OTG_ERR_INVAL;
		if (n == SIGNER_REQ_LEN && memcmp(req, SIGNER_MAGIC, 4) == 0 &&
		    signer_session_ok(req + 4)) {
			memcpy(session, req + 4, REC_ID_LEN);
			session[REC_ID_LEN] = '\0';
			for (time_ms = 0, i = 0; i < 8; i++)
				time_ms = time_ms << 8 | req[4 + REC_ID_LEN + REC_ED25519_LEN + i];
			r = reckey_certify(pkey, session, req + 4 + REC_ID_LEN, time_ms,
			    reply + 1, reply + 1 + REC_SIG_LEN);
			reply[0] = (uint8_t)-r;
		}
		if (send(fd, reply, sizeof(reply), MSG_NOSIGNAL) != (ssize_t)sizeof(reply))
			break;
	}
	reckey_free(pkey);
	_exit(0);
}

int
signer_start(const char *key_path, struct signer **out)
{
	struct signer *s;
	uint8_t status;
	ssize_t n;
	int sv[2], r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return OTG_ERR_NOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		free(s);
		return OTG_ERR_IO;
	}
	fflush(NULL);
	if ((s->pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		free(s);
		return OTG_ERR_IO;
	}
	if (s->pid == 0) {
		close(sv[0]);
		signer_serve(sv[1], key_path);
	}
	close(sv[1]);
	s->fd = sv[0];
	do {
		n = recv(s->fd, &status, 1, 0);
	} while (n == -1 && errno == EINTR);
	if (n != 1 || status != 0) {
		r = n == 1 ? -(int)status : OTG_ERR_IO;
		signer_stop(s);
		return r;
	}
	*out = s;
	return 0;
}

int
signer_certify(struct signer *s, const char *session, const uint8_t pub[REC_ED25519_LEN],
    uint64_t time_ms, uint8_t sig[REC_SIG_LEN], uint8_t fp[REC_HASH_LEN])
{
	uint8_t req[SIGNER_REQ_LEN], reply[SIGNER_REPLY_LEN + 1];
	ssize_t n;
	int i;

	if (strlen(session) != REC_ID_LEN)
		return OTG_ERR_INVAL;
	memcpy(req, SIGNER_MAGIC, 4);
	memcpy(req + 4, session, REC_ID_LEN);
	memcpy(req + 4 + REC_ID_LEN, pub, REC_ED25519_LEN);
	for (i = 0; i < 8; i++)
		req[4 + REC_ID_LEN + REC_ED25519_LEN + i] = (uint8_t)(time_ms >> (56 - 8 * i));
	if (send(s->fd, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return OTG_ERR_IO;
	do {
		n = recv(s->fd, reply, sizeof(reply), 0);
	} while (n == -1 && errno == EINTR);
	if (n != SIGNER_REPLY_LEN)
		return OTG_ERR_IO;
	if (reply[0] != 0)
		return -(int)reply[0];
	memcpy(sig, reply + 1, REC_SIG_LEN);
	memcpy(fp, reply + 1 + REC_SIG_LEN, REC_HASH_LEN);
	return 0;
}

void
signer_stop(struct signer *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	while (waitpid(s->pid, NULL, 0) == -1 && errno == EINTR)
		;
	free(s);
}

int
signer_certify_cb(void *arg, const char *session, const uint8_t pub[REC_ED25519_LEN],
    uint64_t time_ms, uint8_t sig[REC_SIG_LEN], uint8_t fp[REC_HASH_LEN])
{
	return signer_certify(arg, session, pub, time_ms, sig, fp);
}
