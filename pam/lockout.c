/*
 * lockout.c: counting failed logins (IEC 62443 SR 1.11). A table of keys, each
 * with the times of its recent failures and when its lock ends. The window
 * slides: a key is locked when max_failures of its failures fall within the
 * last `period` seconds, and stays locked for `period`. Sources are throttled
 * rather than locked (many vendors may share one NAT address), with a delay
 * that doubles per failure over the limit. Pure: no clock, no files; the
 * table is bounded, and when full, keys whose failures are all old make room.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "pam/pam.h"

int
lockout_init(struct lockout *l, unsigned max_failures, uint64_t period,
    size_t max_entries)
{
	memset(l, 0, sizeof(*l));
	if (max_failures == 0 || max_failures > LOCKOUT_SLOTS || period == 0 ||
	    max_entries == 0)
		return OTG_ERR_INVAL;
	l->max_failures = max_failures;
	l->period = period;
	l->max_entries = max_entries;
	return 0;
}

void
lockout_free(struct lockout *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int
lockout_key_ok(const char *key)
{
	size_t i;

	for (i = 0; key[i] != '\0'; i++) {
		if (i + 1 >= LOCKOUT_KEY_MAX || (unsigned char)key[i] <= ' ' ||
		    (unsigned char)key[i] >= 0x7f)
			return 0;
	}
	return i > 0;
}

static struct lockout_entry *
lockout_find(const struct lockout *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	}
	return NULL;
}

/* Failures of e within the period ending at now. */
static unsigned
lockout_recent(const struct lockout *l, const struct lockout_entry *e, uint64_t now)
{
	unsigned i, n = 0;

	for (i = 0; i < e->nfail; i++) {
		if (e->fail[i] + l->period > now)
			n++;
	}
	return n;
}

/* An entry is still worth keeping while locked or with a recent failure. */
static int
lockout_matters(const struct lockout *l, const struct lockout_entry *e, uint64_t now)
{
	return e->locked_until > now || lockout_recent(l, e, now) > 0;
}

static void
lockout_drop(struct lockout *l, size_t i)
{
	l->v[i] = l->v[l->n - 1];
	l->n--;
}

/* The entry for key, made if missing; NULL when the table is full of keys
 * that still matter, or out of memory. */
static struct lockout_entry *
lockout_get(struct lockout *l, const char *key, uint64_t now)
{
	struct lockout_entry *e, *v;
	size_t i, cap;

	if ((e = lockout_find(l, key)) != NULL)
		return e;
	if (l->n == l->max_entries) {
		for (i = l->n; i > 0; i--) {
			if (!lockout_matters(l, &l->v[i - 1], now))
				lockout_drop(l, i - 1);
		}
		if (l->n == l->max_entries)
			return NULL;
	}
	if (l->n == l->cap) {
		cap = l->cap == 0 ? 16 : l->cap * 2;
		if (cap > l->max_entries)
			cap = l->max_entries;
		if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, strlen(key) + 1);
	return e;
}

uint64_t
lockout_locked(const struct lockout *l, const char *key, time_t now)
{
	const struct lockout_entry *e;
	uint64_t t = now < 0 ? 0 : (uint64_t)now;

	if ((e = lockout_find(l, key)) == NULL || e->locked_until <= t)
		return 0;
	return e->locked_until == LOCKOUT_FOREVER ? LOCKOUT_FOREVER : e->locked_until - t;
}

int
lockout_fail(struct lockout *l, const char *key, time_t now)
{
	struct lockout_entry *e;
	uint64_t t = now < 0 ? 0 : (uint64_t)now;

	if (!lockout_key_ok(key))
		return OTG_ERR_INVAL;
	if ((e = lockout_get(l, key, t)) == NULL)
		return OTG_ERR_TOOBIG;
	if (e->nfail == LOCKOUT_SLOTS) {
		memmove(e->fail, e->fail + 1, sizeof(e->fail[0]) * (LOCKOUT_SLOTS - 1));
		e->nfail--;
	}
	e->fail[e->nfail++] = t;
	if (e->locked_until > t)
		return 0;	/* already locked: counted, the lock is not extended */
	if (lockout_recent(l, e, t) >= l->max_failures) {
		e->locked_until = t + l->period;
		return 1;
	}
	return 0;
}

uint64_t
lockout_delay(const struct lockout *l, const char *key, time_t now)
{
	const struct lockout_entry *e;
	unsigned n;

	if ((e = lockout_find(l, key)) == NULL)
		return 0;
	n = lockout_recent(l, e, now < 0 ? 0 : (uint64_t)now);
	if (n < l->max_failures)
		return 0;
	if (n - l->max_failures >= 5)
		return LOCKOUT_DELAY_MAX;	/* 2^5 = 32 is over the cap */
	return (uint64_t)1 << (n - l->max_failures);
}

void
lockout_clear(struct lockout *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			lockout_drop(l, i);
			return;
		}
	}
}

int
lockout_lock(struct lockout *l, const char *key)
{
	struct lockout_entry *e;

	if (!lockout_key_ok(key))
		return OTG_ERR_INVAL;
	/* an admin's lock must not be refused for room: seen from the far
	 * future, every key that is not locked may make way */
	if ((e = lockout_get(l, key, UINT64_MAX - 1)) == NULL)
		return OTG_ERR_TOOBIG;
	e->locked_until = LOCKOUT_FOREVER;
	return 0;
}

int
lockout_known(const struct lockout *l, const char *key)
{
	return lockout_find(l, key) != NULL;
}

/* One stored entry into l: its failures again, then the longer of the locks. */
static int
lockout_merge_one(struct lockout *l, const struct lockout_entry *s, uint64_t now)
{
	struct lockout_entry *e;
	uint64_t until;
	unsigned i;
	int r;

	if (s->locked_until == LOCKOUT_FOREVER)
		return lockout_lock(l, s->key);
	for (i = 0; i < s->nfail; i++) {
		/* failures from the future are a broken clock or a forgery */
		if (s->fail[i] <= now && (r = lockout_fail(l, s->key, (time_t)s->fail[i])) < 0)
			return r;
	}
	until = s->locked_until;
	if (until <= now)
		return 0;
	if ((e = lockout_get(l, s->key, now)) == NULL)
		return OTG_ERR_TOOBIG;
	if (until > now + l->period)
		until = now + l->period;
	if (until > e->locked_until)
		e->locked_until = until;
	return 0;
}

int
lockout_merge(struct lockout *l, const struct lockout *stored, time_t now)
{
	uint64_t t = now < 0 ? 0 : (uint64_t)now;
	size_t i;
	int r, first = 0;

	for (i = 0; i < stored->n; i++) {
		if ((r = lockout_merge_one(l, &stored->v[i], t)) < 0 && first == 0)
			first = r;
	}
	return first;
}

int
lockout_format(const struct lockout *l, time_t now, struct buf *out)
{
	const struct lockout_entry *e;
	uint64_t t = now < 0 ? 0 : (uint64_t)now;
	size_t i;
	unsigned j;
	int r;

	for (i = 0; i < l->n; i++) {
		e = &l->v[i];
		if (!lockout_matters(l, e, t))
			continue;
		if ((r = buf_printf(out, "%s %" PRIu64, e->key, e->locked_until)) != 0)
			return r;
		for (j = 0; j < e->nfail; j++) {
			if (e->fail[j] + l->period <= t)
				continue;
			if ((r = buf_printf(out, " %" PRIu64, e->fail[j])) != 0)
				return r;
		}
		if ((r = buf_putc(out, '\n')) != 0)
			return r;
	}
	return 0;
}

/* One unsigned decimal from *p (which ends at end), no sign, no overflow. */
static int
lockout_number(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s == end || *s < '0' || *s > '9')
		return OTG_ERR_PROTO;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return OTG_ERR_PROTO;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

int
lockout_parse(struct lockout *l, const char *text, size_t len)
{
	struct lockout_entry *e;
	const char *p = text, *end = text + len, *eol, *sp;
	char key[LOCKOUT_KEY_MAX];
	uint64_t v;
	int r;

	l->n = 0;
	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			r = OTG_ERR_TRUNCATED;
			goto out;
		}
		if ((sp = memchr(p, ' ', (size_t)(eol - p))) == NULL ||
		    (size_t)(sp - p) >= sizeof(key)) {
			r = OTG_ERR_PROTO;
			goto out;
		}
		memcpy(key, p, (size_t)(sp - p));
		key[sp - p] = '\0';
		if (!lockout_key_ok(key) || lockout_find(l, key) != NULL) {
			r = OTG_ERR_PROTO;
			goto out;
		}
		p = sp + 1;
		if ((r = lockout_number(&p, eol, &v)) != 0)
			goto out;
		/* time 0: a full table then refuses rather than evicts */
		if ((e = lockout_get(l, key, 0)) == NULL) {
			r = OTG_ERR_TOOBIG;
			goto out;
		}
		e->locked_until = v;
		while (p < eol) {
			if (*p++ != ' ' || e->nfail == LOCKOUT_SLOTS) {
				r = OTG_ERR_PROTO;
				goto out;
			}
			if ((r = lockout_number(&p, eol, &v)) != 0)
				goto out;
			if (e->nfail > 0 && v < e->fail[e->nfail - 1]) {
				r = OTG_ERR_PROTO;	/* oldest first */
				goto out;
			}
			e->fail[e->nfail++] = v;
		}
		p = eol + 1;
	}
	r = 0;
out:
	if (r != 0)
		l->n = 0;
	return r;
}
