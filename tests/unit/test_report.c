/* test_report.c: the pieces of an incident bundle that must be exact. SSHSIG
 * signatures round-trip and fail on any changed message byte, another
 * namespace, a damaged armour or a swapped key; one made by ssh-keygen -Y sign
 * verifies (and ssh-keygen -Y verify checks ours in tests/e2e/report.sh);
 * audit timestamps parse
 * strictly; the scope keeps events by time, asset, user and source, brings a
 * connection's login and a session's checkpoints along, and keeps context
 * events (reloads) whatever the filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "report/report.h"

#define MSG "0123abcd  timeline.jsonl\n"

static void *
new_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	assert_non_null(k);
	return k;
}

static void
sign(void *key, const char *ns, const char *msg, struct buf *out)
{
	buf_init(out, 65536);
	assert_int_equal(sshsig_sign(key, ns, msg, strlen(msg), out), 0);
}

static void
test_sshsig_roundtrip(void **state)
{
	void *key = new_key();
	uint8_t pub[REC_ED25519_LEN], want[REC_ED25519_LEN];
	size_t n = sizeof(want);
	struct buf sig;
	const char *text;

	(void)state;
	sign(key, SSHSIG_NAMESPACE, MSG, &sig);
	assert_int_equal(buf_putc(&sig, '\0'), 0);
	text = (const char *)buf_ptr(&sig);
	assert_memory_equal(text, "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH", 38);
	assert_non_null(strstr(text, "\n-----END SSH SIGNATURE-----\n"));
	/* armour lines of 70 as ssh-keygen writes them */
	assert_int_equal(strchr(text + 30, '\n') - (text + 30), 70);
	assert_int_equal(sshsig_verify(text, strlen(text), SSHSIG_NAMESPACE, MSG,
	    strlen(MSG), pub), 0);
	assert_int_equal(EVP_PKEY_get_raw_public_key(key, want, &n), 1);
	assert_memory_equal(pub, want, sizeof(want));
	buf_free(&sig);
	EVP_PKEY_free(key);
}

static void
test_sshsig_refuses(void **state)
{
	void *key = new_key(), *other = new_key();
	uint8_t pub[REC_ED25519_LEN];
	struct buf sig, sig2;
	char msg[] = MSG, *text, *copy;
	size_t i, len, pos;

	(void)state;
	sign(key, SSHSIG_NAMESPACE, msg, &sig);
	assert_int_equal(buf_putc(&sig, '\0'), 0);
	text = (char *)buf_ptr(&sig);
	len = strlen(text);
	/* every byte of the message counts */
	for (i = 0; i < strlen(msg); i++) {
		msg[i] ^= 0x01;
		assert_int_equal(sshsig_verify(text, len, SSHSIG_NAMESPACE, msg, strlen(msg),
		    pub), OTG_ERR_BADSIG);
		msg[i] ^= 0x01;
	}
	/* a signature for another purpose is not one for a report */
	assert_int_equal(sshsig_verify(text, len, "file", msg, strlen(msg), pub),
	    OTG_ERR_BADSIG);
	sign(key, "file", msg, &sig2);
	assert_int_equal(sshsig_verify((const char *)buf_ptr(&sig2), buf_len(&sig2),
	    SSHSIG_NAMESPACE, msg, strlen(msg), pub), OTG_ERR_BADSIG);
	buf_free(&sig2);
	/* a changed base64 character in the signature part */
	assert_non_null(copy = strdup(text));
	pos = strstr(copy, "\n-----END") - copy - 10;
	copy[pos] = copy[pos] == 'A' ? 'B' : 'A';
	assert_int_not_equal(sshsig_verify(copy, len, SSHSIG_NAMESPACE, msg, strlen(msg), pub),
	    0);
	free(copy);
	/* no armour, cut armour, garbage */
	assert_int_equal(sshsig_verify("hello", 5, SSHSIG_NAMESPACE, msg, strlen(msg), pub),
	    OTG_ERR_PROTO);
	assert_int_equal(sshsig_verify(text, len / 2, SSHSIG_NAMESPACE, msg, strlen(msg), pub),
	    OTG_ERR_PROTO);
	/* signed by another key: verifies, but names that key */
	sign(other, SSHSIG_NAMESPACE, msg, &sig2);
	assert_int_equal(sshsig_verify((const char *)buf_ptr(&sig2), buf_len(&sig2),
	    SSHSIG_NAMESPACE, msg, strlen(msg), pub), 0);
	{
		uint8_t want[REC_ED25519_LEN];
		size_t n = sizeof(want);

		assert_int_equal(EVP_PKEY_get_raw_public_key(key, want, &n), 1);
		assert_memory_not_equal(pub, want, sizeof(want));
	}
	buf_free(&sig2);
	buf_free(&sig);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

/* `ssh-keygen -Y sign -n otgate-report` over "some manifest\n" (also the
 * seed of tests/fuzz/corpus/sshsig). */
static const char keygen_sig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg9E3S50KsmYr2wHWAoABD46xhyj\n"
    "9yrNk9bibPstNUgqUAAAANb3RnYXRlLXJlcG9ydAAAAAAAAAAGc2hhNTEyAAAAUwAAAAtz\n"
    "c2gtZWQyNTUxOQAAAEC84ukXpNGrmPRBbsPkO/IBImFtCZgii64E/H2/gPzKqbrjzGIWw4\n"
    "8cdc4qeRrLtk/NMEZVXpnkgs/Mh2wQJzsC\n"
    "-----END SSH SIGNATURE-----\n";

static void
test_sshsig_from_ssh_keygen(void **state)
{
	uint8_t pub[REC_ED25519_LEN];

	(void)state;
	assert_int_equal(sshsig_verify(keygen_sig, strlen(keygen_sig), SSHSIG_NAMESPACE,
	    "some manifest\n", 14, pub), 0);
	assert_int_equal(pub[0], 0xf4);	/* the key it names, AAAAg9E3... */
	assert_int_equal(sshsig_verify(keygen_sig, strlen(keygen_sig), SSHSIG_NAMESPACE,
	    "some manifest!", 14, pub), OTG_ERR_BADSIG);
}

static void
test_sshsig_pubkey_line(void **state)
{
	uint8_t pub[REC_ED25519_LEN];
	struct buf line;

	(void)state;
	memset(pub, 0, sizeof(pub));
	buf_init(&line, 1024);
	assert_int_equal(sshsig_pubkey_line(pub, &line), 0);
	assert_int_equal(buf_putc(&line, '\0'), 0);
	/* the well-known encoding of an all-zero Ed25519 key */
	assert_string_equal((const char *)buf_ptr(&line), "ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	buf_free(&line);
}

static void
test_ts_parse(void **state)
{
	time_t t;
	int ms;

	(void)state;
	assert_int_equal(scope_ts_parse("2026-11-23T14:00:00.123Z", &t, &ms), 0);
	assert_int_equal(t, 1795442400);
	assert_int_equal(ms, 123);
	assert_int_equal(scope_ts_parse("2026-11-23T14:00:00Z", &t, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(scope_ts_parse("2026-11-23 14:00:00Z", &t, &ms), OTG_ERR_INVAL);
	assert_int_equal(scope_ts_parse("2026-13-23T14:00:00Z", &t, &ms), OTG_ERR_INVAL);
	assert_int_equal(scope_ts_parse("2026-11-23T14:00:00+01:00", &t, &ms), OTG_ERR_INVAL);
	assert_int_equal(scope_ts_parse("+026-11-23T14:00:00.123Z", &t, &ms), OTG_ERR_INVAL);
	assert_int_equal(scope_ts_parse("", &t, &ms), OTG_ERR_INVAL);
}

/* Audit lines as the broker writes them (prev shortened: not checked here). */
static const char *const lines[] = {
	/* 0 */ "{\"ts\":\"2026-11-23T09:00:00.000Z\",\"seq\":1,\"prev\":\"0\","
	    "\"event\":\"policy.reload\",\"result\":\"ok\",\"policy\":\"aa\"}",
	/* 1 */ "{\"ts\":\"2026-11-23T10:00:00.000Z\",\"seq\":2,\"prev\":\"0\","
	    "\"event\":\"auth.success\",\"conn\":\"c1\",\"user\":\"alice\","
	    "\"company\":\"X\",\"src\":\"10.1.2.3\"}",
	/* 2 */ "{\"ts\":\"2026-11-23T10:00:01.000Z\",\"seq\":3,\"prev\":\"0\","
	    "\"event\":\"session.start\",\"session\":\"s1\",\"conn\":\"c1\","
	    "\"user\":\"alice\",\"asset\":\"plc1\",\"src\":\"10.1.2.3\"}",
	/* 3 */ "{\"ts\":\"2026-11-23T10:00:02.000Z\",\"seq\":4,\"prev\":\"0\","
	    "\"event\":\"session.checkpoint\",\"session\":\"s1\",\"seal\":1}",
	/* 4 */ "{\"ts\":\"2026-11-23T10:30:00.000Z\",\"seq\":5,\"prev\":\"0\","
	    "\"event\":\"auth.failure\",\"conn\":\"c2\",\"user\":\"mallory+plc2\","
	    "\"src\":\"192.0.2.7\",\"reason\":\"no matching key\"}",
	/* 5 */ "{\"ts\":\"2026-11-23T11:00:00.000Z\",\"seq\":6,\"prev\":\"0\","
	    "\"event\":\"session.start\",\"session\":\"s2\",\"conn\":\"c3\","
	    "\"user\":\"bob\",\"asset\":\"hmi1\",\"src\":\"10.9.9.9\"}",
	/* 6 */ "{\"ts\":\"2026-11-23T12:00:00.000Z\",\"seq\":7,\"prev\":\"0\","
	    "\"event\":\"control.command\",\"verb\":\"reload\",\"uid\":0}",
	/* 7 */ "{\"ts\":\"2026-11-23T13:00:00.000Z\",\"seq\":8,\"prev\":\"0\","
	    "\"event\":\"session.end\",\"session\":\"s1\",\"conn\":\"c1\","
	    "\"user\":\"alice\",\"asset\":\"plc1\"}",
};
#define NLINES (sizeof(lines) / sizeof(lines[0]))

struct events {
	struct scope_event ev[NLINES];
	unsigned char keep[NLINES];
};

static int
setup_events(void **state)
{
	struct events *e = calloc(1, sizeof(*e));
	size_t i;

	assert_non_null(e);
	for (i = 0; i < NLINES; i++)
		assert_int_equal(scope_event_parse(lines[i], strlen(lines[i]), &e->ev[i]), 0);
	*state = e;
	return 0;
}

static int
teardown_events(void **state)
{
	struct events *e = *state;
	size_t i;

	for (i = 0; i < NLINES; i++)
		scope_event_free(&e->ev[i]);
	free(e);
	return 0;
}

static time_t
at(const char *ts)
{
	time_t t;
	int ms;

	assert_int_equal(scope_ts_parse(ts, &t, &ms), 0);
	return t;
}

/* The selection as a string of 0/1, one per line. */
static const char *
select_str(struct events *e, const struct scope *s)
{
	static char out[NLINES + 1];
	size_t i;

	assert_int_equal(scope_select(s, e->ev, NLINES, e->keep), 0);
	for (i = 0; i < NLINES; i++)
		out[i] = e->keep[i] ? '1' : '0';
	out[NLINES] = '\0';
	return out;
}

static void
test_scope_time(void **state)
{
	struct events *e = *state;
	struct scope s;

	memset(&s, 0, sizeof(s));
	s.since = at("2026-11-23T10:00:00Z");
	s.until = at("2026-11-23T11:00:00Z");
	/* both ends inclusive; nothing outside */
	assert_string_equal(select_str(e, &s), "01111100");
	s.since = s.until = at("2026-11-23T12:00:00Z");
	assert_string_equal(select_str(e, &s), "00000010");
}

static void
test_scope_asset(void **state)
{
	struct events *e = *state;
	struct scope s;

	memset(&s, 0, sizeof(s));
	s.since = at("2026-11-23T00:00:00Z");
	s.until = at("2026-11-23T23:59:59Z");
	s.assets[s.nassets++] = "plc1";
	/* the reload and control command are context; alice's login comes with
	 * her session (same conn), the checkpoint with its session */
	assert_string_equal(select_str(e, &s), "11110011");
	s.assets[0] = "plc2";
	/* a refused login names its asset only in the login name */
	assert_string_equal(select_str(e, &s), "10001010");
}

static void
test_scope_user_and_src(void **state)
{
	struct events *e = *state;
	struct scope s;

	memset(&s, 0, sizeof(s));
	s.since = at("2026-11-23T00:00:00Z");
	s.until = at("2026-11-23T23:59:59Z");
	s.users[s.nusers++] = "mallory";
	assert_string_equal(select_str(e, &s), "10001010");
	s.nusers = 0;
	assert_int_equal(cidr_parse("10.9.0.0/16", &s.src), 0);
	s.has_src = 1;
	assert_string_equal(select_str(e, &s), "10000110");
	/* filters combine: bob from 10.9/16 on plc1 is nothing */
	s.assets[s.nassets++] = "plc1";
	assert_string_equal(select_str(e, &s), "10000010");
}

static void
test_scope_user_part(void **state)
{
	char out[64];

	(void)state;
	scope_user_part("alice+plc-line3", out, sizeof(out));
	assert_string_equal(out, "alice");
	scope_user_part("alice:plc1", out, sizeof(out));
	assert_string_equal(out, "alice");
	scope_user_part("alice", out, sizeof(out));
	assert_string_equal(out, "alice");
}

static void
test_event_parse_refuses(void **state)
{
	struct scope_event ev;

	(void)state;
	assert_int_equal(scope_event_parse("not json", 8, &ev), OTG_ERR_PROTO);
	assert_int_equal(scope_event_parse("[1,2]", 5, &ev), OTG_ERR_PROTO);
	assert_int_equal(scope_event_parse("{\"event\":\"x\"}", 13, &ev), OTG_ERR_PROTO);
	assert_int_equal(scope_event_parse("{\"ts\":\"yesterday\",\"event\":\"x\"}", 30, &ev),
	    OTG_ERR_PROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sshsig_roundtrip),
		cmocka_unit_test(test_sshsig_refuses),
		cmocka_unit_test(test_sshsig_from_ssh_keygen),
		cmocka_unit_test(test_sshsig_pubkey_line),
		cmocka_unit_test(test_ts_parse),
		cmocka_unit_test(test_scope_user_part),
		cmocka_unit_test(test_event_parse_refuses),
		cmocka_unit_test_setup_teardown(test_scope_time, setup_events, teardown_events),
		cmocka_unit_test_setup_teardown(test_scope_asset, setup_events, teardown_events),
		cmocka_unit_test_setup_teardown(test_scope_user_and_src, setup_events,
		    teardown_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
