/* test_seal.c: tamper evidence. A flipped byte anywhere is found in the
 * segment that holds it; a cut seal file leaves a verified prefix and an
 * unsealed tail; wrong keys, swapped seal files and forged signatures are
 * refused; the signer process certifies session keys and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "recorder/recorder.h"
#include "tests/unit/recfixture.h"

struct fixture {
	struct recfixture rf;	/* first: recfixture_teardown frees the fixture */
	char checkpoints[300];	/* as exported to syslog */
	uint64_t seal_offsets[64];
	int nseals;
	char path[4096];
};

static void
checkpoint_cb(void *arg, const struct rec_checkpoint *cp)
{
	struct fixture *fx = arg;
	FILE *fp;

	if (fx->nseals < 64)
		fx->seal_offsets[fx->nseals++] = cp->offset;
	assert_non_null(fp = fopen(fx->checkpoints, "a"));
	fprintf(fp, "<110>1 2026-11-23T14:00:00Z gate otgated 1 - - {\"ts\":\"x\",\"seq\":9,"
	    "\"event\":\"session.checkpoint\",\"session\":\"%s\",\"file\":\"%s\","
	    "\"seal\":%llu,\"offset\":%llu,\"h\":\"%s\",\"final\":%d}\n", cp->session, cp->file,
	    (unsigned long long)cp->seq, (unsigned long long)cp->offset, cp->h, cp->final);
	fclose(fp);
}

/* A closed recording of about 200 kB of text, several seals. */
static void
make_recording(struct fixture *fx, int pty)
{
	struct recording_params p;
	struct recording *rec;
	char line[128];
	uint64_t t = 0;
	int i;

	memset(&p, 0, sizeof(p));
	p.state_dir = fx->rf.state;
	p.pty = pty;
	p.record_input = 1;
	p.meta.user = "bob";
	p.meta.asset = "hmi-2";
	p.meta.kind = pty ? "shell" : "exec";
	p.certify = reckey_certify;
	p.certify_arg = fx->rf.key;
	p.checkpoint = checkpoint_cb;
	p.checkpoint_arg = fx;
	fx->nseals = 0;
	assert_int_equal(recording_open(&p, &rec), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(line, sizeof(line), "line %d of the PLC's output, value=%d\r\n", i,
		    i * 17);
		assert_int_equal(recording_output(rec, t, line, strlen(line)), 0);
		t += 5000;
	}
	snprintf(fx->path, sizeof(fx->path), "%s", recording_path(rec));
	assert_int_equal(recording_close(rec, t, 0), 0);
	assert_true(fx->nseals >= 3);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	recfixture_make(&fx->rf, "test_seal");
	snprintf(fx->checkpoints, sizeof(fx->checkpoints), "%s/syslog", fx->rf.state);
	make_recording(fx, 1);
	*state = fx;
	return 0;
}

static struct verify_result
verify(struct fixture *fx, const struct reckey_set *keys)
{
	struct verify_result res;
	struct recfile f;

	assert_int_equal(recfile_from_path(fx->path, &f), 0);
	assert_int_equal(verify_recording(&f, keys, &res), 0);
	return res;
}

static long
file_size(const char *path)
{
	FILE *fp = fopen(path, "r");
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fclose(fp);
	return n;
}

static void
xor_byte(const char *path, long pos, int mask)
{
	FILE *fp = fopen(path, "r+");
	int c;

	assert_non_null(fp);
	fseek(fp, pos, SEEK_SET);
	c = fgetc(fp);
	fseek(fp, pos, SEEK_SET);
	fputc(c ^ mask, fp);
	fclose(fp);
}

static void
test_intact_verifies(void **state)
{
	struct fixture *fx = *state;
	struct verify_result res = verify(fx, &fx->rf.pubs);
	char line[512];
	struct recfile f;

	assert_int_equal(res.status, VERIFY_OK);
	assert_int_equal(res.nseals, (uint64_t)fx->nseals);
	assert_int_equal(res.offset, (uint64_t)file_size(fx->path));
	assert_int_equal(recfile_from_path(fx->path, &f), 0);
	verify_format(&f, &res, line, sizeof(line));
	assert_non_null(strstr(line, ": verified"));
}

/* Flip one byte at many places: each is reported in the segment holding it. */
static void
test_flip_any_byte(void **state)
{
	struct fixture *fx = *state;
	long size = file_size(fx->path), pos;
	struct verify_result res;
	uint64_t lo, hi;
	int i, k;

	srandom(7);
	for (i = 0; i < 60; i++) {
		pos = i == 0 ? 0 : i == 1 ? size - 1 : random() % size;
		xor_byte(fx->path, pos, 0x20);
		res = verify(fx, &fx->rf.pubs);
		xor_byte(fx->path, pos, 0x20);
		if (res.status != VERIFY_TAMPERED)
			fail_msg("byte %ld flipped: status %d", pos, res.status);
		for (k = 0, lo = 0; k < fx->nseals && fx->seal_offsets[k] <= (uint64_t)pos; k++)
			lo = fx->seal_offsets[k];
		hi = k < fx->nseals ? fx->seal_offsets[k] : (uint64_t)size;
		if (res.offset != lo || (uint64_t)pos >= hi)
			fail_msg("byte %ld flipped: reported at %llu, segment %llu-%llu", pos,
			    (unsigned long long)res.offset, (unsigned long long)lo,
			    (unsigned long long)hi);
	}
	assert_int_equal(verify(fx, &fx->rf.pubs).status, VERIFY_OK);
}

/* Drop the last seal lines as a crash would: verified prefix, unsealed tail. */
static void
test_truncated_seals_leave_unsealed_tail(void **state)
{
	struct fixture *fx = *state;
	struct verify_result res;
	struct recfile f;
	char *text;
	size_t len, cut;
	int nl = 0;

	assert_int_equal(recfile_from_path(fx->path, &f), 0);
	assert_int_equal(file_read(f.seal, 1 << 20, &text, &len), 0);
	/* keep the certificate and the first two seals, and half a line */
	for (cut = 0; cut < len && nl < 3; cut++)
		nl += text[cut] == '\n';
	assert_int_equal(truncate(f.seal, (off_t)cut + 20), 0);
	res = verify(fx, &fx->rf.pubs);
	assert_int_equal(res.status, VERIFY_UNSEALED_TAIL);
	assert_int_equal(res.offset, fx->seal_offsets[1]);
	assert_int_equal(res.nseals, 2);
	/* and a recording cut exactly there has no tail, but no final seal either */
	assert_int_equal(truncate(fx->path, (off_t)fx->seal_offsets[1]), 0);
	res = verify(fx, &fx->rf.pubs);
	assert_int_equal(res.status, VERIFY_INTERRUPTED);
	free(text);
}

static void
test_cut_recording_is_tampered(void **state)
{
	struct fixture *fx = *state;
	struct verify_result res;

	assert_int_equal(truncate(fx->path, (off_t)fx->seal_offsets[1] + 10), 0);
	res = verify(fx, &fx->rf.pubs);
	assert_int_equal(res.status, VERIFY_TAMPERED);
	assert_int_equal(res.offset, fx->seal_offsets[1] + 10);
}

static void
test_appended_bytes_are_tampered(void **state)
{
	struct fixture *fx = *state;
	FILE *fp = fopen(fx->path, "a");

	assert_non_null(fp);
	fputs("[9999.0, \"o\", \"forged\"]\n", fp);
	fclose(fp);
	assert_int_equal(verify(fx, &fx->rf.pubs).status, VERIFY_TAMPERED);
}

static void
test_unknown_recording_key(void **state)
{
	struct fixture *fx = *state;
	struct reckey_set other;
	char dir[400], pub[4096];

	snprintf(dir, sizeof(dir), "%s/otherkeys", fx->rf.state);
	assert_int_equal(reckey_generate(dir, pub, sizeof(pub)), 0);
	assert_int_equal(reckey_load_public_dir(dir, &other), 0);
	assert_int_equal(verify(fx, &other).status, VERIFY_BADSIG);
	reckey_set_free(&other);
	/* a rotated key: the old public half stays and still verifies */
	assert_int_equal(reckey_generate(fx->rf.keys, pub, sizeof(pub)), 0);
	assert_int_equal(reckey_load_public_dir(fx->rf.keys, &other), 0);
	assert_int_equal(other.n, 2);
	assert_int_equal(verify(fx, &other).status, VERIFY_OK);
	reckey_set_free(&other);
}

static void
test_forged_seal_signature(void **state)
{
	struct fixture *fx = *state;
	struct verify_result res;
	struct recfile f;
	char *text, *sig;
	size_t len;

	assert_int_equal(recfile_from_path(fx->path, &f), 0);
	assert_int_equal(file_read(f.seal, 1 << 20, &text, &len), 0);
	/* the second line is the first seal; change a character of its signature */
	sig = strstr(strchr(text, '\n') + 1, "\"sig\": \"");
	assert_non_null(sig);
	/* swap one base64 character for another valid one */
	xor_byte(f.seal, (long)(sig - text) + 10, sig[10] == 'A' ? 'A' ^ 'B' : sig[10] ^ 'A');
	res = verify(fx, &fx->rf.pubs);
	assert_int_equal(res.status, VERIFY_BADSIG);
	free(text);
}

static void
test_swapped_seal_file(void **state)
{
	struct fixture *fx = *state;
	struct recfile a, b;
	char first[4096], cmd[9000];

	snprintf(first, sizeof(first), "%s", fx->path);
	make_recording(fx, 1);
	assert_int_equal(recfile_from_path(first, &a), 0);
	assert_int_equal(recfile_from_path(fx->path, &b), 0);
	snprintf(cmd, sizeof(cmd), "cp %s %s", b.seal, a.seal);
	assert_int_equal(system(cmd), 0);
	snprintf(fx->path, sizeof(fx->path), "%s", first);
	assert_int_equal(verify(fx, &fx->rf.pubs).status, VERIFY_BADSIG);
	unlink(a.seal);
	assert_int_equal(verify(fx, &fx->rf.pubs).status, VERIFY_MISSING);
}

static void
test_stream_tamper(void **state)
{
	struct fixture *fx = *state;

	make_recording(fx, 0);
	assert_int_equal(verify(fx, &fx->rf.pubs).status, VERIFY_OK);
	xor_byte(fx->path, file_size(fx->path) / 2, 0x01);
	assert_int_equal(verify(fx, &fx->rf.pubs).status, VERIFY_TAMPERED);
}

/* History cut back to an earlier seal looks like a crash, unless the seals
 * were exported off the host. */
static void
test_checkpoints_catch_cut_history(void **state)
{
	struct fixture *fx = *state;
	struct verify_checkpoints cps;
	struct verify_result res;
	struct recfile f;
	unsigned long nbad;
	char *text;
	size_t len, cut;
	int nl = 0;

	assert_int_equal(verify_checkpoints_load(fx->checkpoints, &cps, &nbad), 0);
	assert_int_equal(nbad, 0);
	assert_int_equal(cps.n, (size_t)fx->nseals);
	assert_int_equal(recfile_from_path(fx->path, &f), 0);
	assert_int_equal(verify_recording_against(&f, &fx->rf.pubs, &cps, &res), 0);
	assert_int_equal(res.status, VERIFY_OK);
	/* keep the certificate and two seals, and the bytes they cover */
	assert_int_equal(file_read(f.seal, 1 << 20, &text, &len), 0);
	for (cut = 0; cut < len && nl < 3; cut++)
		nl += text[cut] == '\n';
	assert_int_equal(truncate(f.seal, (off_t)cut), 0);
	assert_int_equal(truncate(fx->path, (off_t)fx->seal_offsets[1]), 0);
	assert_int_equal(verify_recording(&f, &fx->rf.pubs, &res), 0);
	assert_int_equal(res.status, VERIFY_INTERRUPTED);
	assert_int_equal(verify_recording_against(&f, &fx->rf.pubs, &cps, &res), 0);
	assert_int_equal(res.status, VERIFY_TAMPERED);
	assert_non_null(strstr(res.why, "exported"));
	/* a checkpoint that disagrees with its seal */
	cps.v[0].h[0] ^= 1;
	assert_int_equal(verify_recording_against(&f, &fx->rf.pubs, &cps, &res), 0);
	assert_int_equal(res.status, VERIFY_TAMPERED);
	assert_int_equal(res.offset, 0);
	verify_checkpoints_free(&cps);
	free(text);
}

static void
test_signer_process(void **state)
{
	struct fixture *fx = *state;
	uint8_t pub[REC_ED25519_LEN], sig[REC_SIG_LEN], fp[REC_HASH_LEN];
	uint8_t msg[SEAL_CERT_MSG_LEN];
	const char *id = "0123456789abcdef0123456789abcdef";
	struct signer *s;
	void *session_key;

	assert_int_equal(signer_start(fx->rf.keypath, &s), 0);
	assert_int_equal(reckey_new_session(&session_key, pub), 0);
	assert_int_equal(signer_certify(s, id, pub, 1234, sig, fp), 0);
	assert_non_null(reckey_set_find(&fx->rf.pubs, fp));
	seal_cert_message(msg, id, pub, 1234);
	assert_int_equal(reckey_verify_raw(reckey_set_find(&fx->rf.pubs, fp), msg, sizeof(msg),
	    sig), 0);
	/* anything but a well-formed session ID is refused */
	assert_int_equal(signer_certify(s, "0123456789ABCDEF0123456789abcdef", pub, 1, sig, fp),
	    OTG_ERR_INVAL);
	assert_int_equal(signer_certify(s, "short", pub, 1, sig, fp), OTG_ERR_INVAL);
	assert_int_equal(signer_certify_cb(s, id, pub, 1, sig, fp), 0);
	signer_stop(s);
	reckey_free(session_key);
	/* a loose key file is refused at start */
	assert_int_equal(chmod(fx->rf.keypath, 0644), 0);
	assert_int_equal(signer_start(fx->rf.keypath, &s), OTG_ERR_PERM);
}

/* The session's reused signing context signs, seal after seal, exactly what a
 * fresh context per signature signs (Ed25519 is deterministic), and verifies. */
/* Seals are signed by libsodium, keys made and signatures verified by
 * OpenSSL: Ed25519 is deterministic, so both must give the same bytes. */
static void
test_signer_matches_openssl(void **state)
{
	uint8_t pub[REC_ED25519_LEN], a[REC_SIG_LEN], b[REC_SIG_LEN], msg[SEAL_MSG_LEN];
	struct seal_record rec;
	char hex[2 * REC_HASH_LEN + 1];
	void *key, *signer;
	int i;

	(void)state;
	assert_int_equal(reckey_new_session(&key, pub), 0);
	assert_int_equal(seal_signer_init(&signer, key), 0);
	memset(&rec, 0, sizeof(rec));
	for (i = 0; i < 5; i++) {
		rec.seq = (uint64_t)i + 1;
		rec.offset = 65536u * (uint64_t)i;
		rec.h[i] = 0xa5;
		seal_message(msg, "0123456789abcdef0123456789abcdef", &rec);
		assert_int_equal(seal_sign(signer, msg, sizeof(msg), a), 0);
		assert_int_equal(reckey_sign(key, msg, sizeof(msg), b), 0);
		assert_memory_equal(a, b, sizeof(a));
		assert_int_equal(reckey_verify_raw(pub, msg, sizeof(msg), a), 0);
	}
	seal_signer_free(signer);
	reckey_free(key);
	seal_hex_str(hex, (const uint8_t *)"\x00\x0f\xa5\xff", 4);
	assert_string_equal(hex, "000fa5ff");
}

/* A key whose raw halves are not an Ed25519 pair (here X25519's) would make
 * libsodium sign with a public key other than the certified one: refused. */
static void
test_signer_refuses_a_key_it_would_misread(void **state)
{
	EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	void *signer = (void *)&signer;

	(void)state;
	assert_non_null(x);
	assert_int_equal(seal_signer_init(&signer, x), OTG_ERR_CRYPTO);
	assert_null(signer);
	EVP_PKEY_free(x);
	seal_signer_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intact_verifies, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_flip_any_byte, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_seals_leave_unsealed_tail, setup,
		    recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_cut_recording_is_tampered, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_appended_bytes_are_tampered, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_recording_key, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_forged_seal_signature, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_swapped_seal_file, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_tamper, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_checkpoints_catch_cut_history, setup,
		    recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_signer_process, setup, recfixture_teardown),
		cmocka_unit_test(test_signer_matches_openssl),
		cmocka_unit_test(test_signer_refuses_a_key_it_would_misread),
	};

	log_init("test_seal", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
