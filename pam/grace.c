/*
 * grace.c: otgated.conf's `mfa-grace`. Tools like WinSCP open several SSH
 * connections in a row, and a TOTP code is single-use, so each would need a
 * fresh code. After a full login (first factor + code) the broker remembers
 * (user, public key, source address) for mfa-grace; a further connection
 * matching all three, authenticated by that same key, skips the code. Only a
 * key can carry grace: a password proves nothing that ties connections
 * together. Grace runs from the last code typed and is never extended by
 * connections that used it. Pure and in memory: the broker owns the table.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "pam/pam.h"

int
grace_init(struct grace *g, uint64_t period, size_t max_entries)
{
	memset(g, 0, sizeof(*g));
	if (max_entries == 0)
		return OTG_ERR_INVAL;
	g->period = period;
	g->max_entries = max_entries;
	return 0;
}

void
grace_free(struct grace *g)
{
	free(g->v);
	g->v = NULL;
	g->n = g->cap = 0;
}

static int
grace_copy(char *dst, size_t dstsz, const char *src)
{
	size_t n;

	if (src == NULL || (n = strnlen(src, dstsz)) == 0 || n == dstsz)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static struct grace_entry *
grace_find(const struct grace *g, const char *user, const char *key,
    const char *source)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		if (strcmp(g->v[i].user, user) == 0 && strcmp(g->v[i].key, key) == 0 &&
		    strcmp(g->v[i].source, source) == 0)
			return &g->v[i];
	}
	return NULL;
}

int
grace_remember(struct grace *g, const char *user, const char *key,
    const char *source, time_t now)
{
	struct grace_entry e, *v, *slot;
	uint64_t t = now < 0 ? 0 : (uint64_t)now;
	size_t i, cap;

	if (g->period == 0)
		return 0;	/* grace is off */
	memset(&e, 0, sizeof(e));
	if (grace_copy(e.user, sizeof(e.user), user) != 0 ||
	    grace_copy(e.key, sizeof(e.key), key) != 0 ||
	    grace_copy(e.source, sizeof(e.source), source) != 0)
		return OTG_ERR_INVAL;
	e.until = t + g->period;
	if ((slot = grace_find(g, e.user, e.key, e.source)) != NULL) {
		*slot = e;
		return 0;
	}
	/* make room: first what has expired, then the entry that ends soonest */
	for (i = g->n; i > 0 && g->n == g->max_entries; i--) {
		if (g->v[i - 1].until <= t)
			g->v[i - 1] = g->v[--g->n];
	}
	if (g->n == g->max_entries) {
		slot = &g->v[0];
		for (i = 1; i < g->n; i++) {
			if (g->v[i].until < slot->until)
				slot = &g->v[i];
		}
		*slot = e;
		return 0;
	}
	if (g->n == g->cap) {
		cap = g->cap == 0 ? 16 : g->cap * 2;
		if (cap > g->max_entries)
			cap = g->max_entries;
		if ((v = reallocarray(g->v, cap, sizeof(*v))) == NULL)
			return OTG_ERR_NOMEM;
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = e;
	return 0;
}

int
grace_covers(const struct grace *g, const char *user, const char *key,
    const char *source, time_t now)
{
	const struct grace_entry *e;

	if (g->period == 0 || user == NULL || key == NULL || source == NULL)
		return 0;
	if ((e = grace_find(g, user, key, source)) == NULL)
		return 0;
	return now >= 0 && (uint64_t)now < e->until;
}

void
grace_forget(struct grace *g, const char *user)
{
	size_t i;

	for (i = g->n; i > 0; i--) {
		if (strcmp(g->v[i - 1].user, user) == 0)
			g->v[i - 1] = g->v[--g->n];
	}
}
