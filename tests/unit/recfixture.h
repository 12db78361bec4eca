/* recfixture.h: what the recorder's unit tests share (include it after
 * cmocka.h and recorder/recorder.h): a temporary state folder with a fresh
 * recording key pair, loaded as the signer and verify load them, and its
 * removal. */
#ifndef OTGATE_RECFIXTURE_H
#define OTGATE_RECFIXTURE_H

#include <stdio.h>
#include <stdlib.h>

struct recfixture {
	char state[256];
	char keys[300];
	char keypath[400];
	void *key;		/* the private recording key */
	struct reckey_set pubs;	/* the public keys verify reads */
};

/* /tmp/NAME.XXXXXX with keys/ in it. */
static inline void
recfixture_make(struct recfixture *rf, const char *name)
{
	char pub[4096];

	snprintf(rf->state, sizeof(rf->state), "/tmp/%s.XXXXXX", name);
	assert_non_null(mkdtemp(rf->state));
	snprintf(rf->keys, sizeof(rf->keys), "%s/keys", rf->state);
	assert_int_equal(reckey_generate(rf->keys, pub, sizeof(pub)), 0);
	snprintf(rf->keypath, sizeof(rf->keypath), "%s/%s", rf->keys, RECKEY_PRIVATE);
	assert_int_equal(reckey_load_private(rf->keypath, &rf->key), 0);
	assert_int_equal(reckey_load_public_dir(rf->keys, &rf->pubs), 0);
	assert_int_equal(rf->pubs.n, 1);
}

static inline void
recfixture_free(struct recfixture *rf)
{
	char cmd[300];

	reckey_free(rf->key);
	reckey_set_free(&rf->pubs);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", rf->state);
	assert_int_equal(system(cmd), 0);
}

/* cmocka teardown for a fixture whose first member is its struct recfixture. */
static inline int
recfixture_teardown(void **state)
{
	struct recfixture *rf = *state;

	recfixture_free(rf);
	free(rf);
	return 0;
}

#endif
