/*
 * recorder.h: session recordings that auditors replay, search and verify
 * offline. A recording is an asciicast v2 file (pty sessions) or a binary framed
 * stream (everything else), written incrementally beside a sidecar of signed
 * hash-chain seals; an SQLite index lists sessions and their transcript text.
 * docs/FORMATS.md describes every file byte by byte. Sections by file.
 */
#ifndef OTGATE_RECORDER_H
#define OTGATE_RECORDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/common.h"

#define REC_ID_LEN 32			/* lowercase hex characters of a session ID */
#define REC_ED25519_LEN 32		/* public key bytes */
#define REC_SIG_LEN 64			/* Ed25519 signature bytes */
#define REC_HASH_LEN 32			/* SHA-256 */
#define REC_SEAL_MAX_BYTES 65536	/* a seal at least every 64 KiB ... */
#define REC_SEAL_MAX_US 5000000ull	/* ... and every 5 s with unsealed bytes */
#define REC_FLUSH_US 1000000ull	/* data reaches the file within a second */
#define REC_MAX_LINE (4u * 1024 * 1024)	/* longest cast or seal line read */
#define REC_MAX_FRAME (1u * 1024 * 1024)	/* longest stream frame read */

/* json.c: a bounded JSON parser for hostile recordings (depth, size, and
 * strings checked; lone surrogates decode to U+FFFD). */
enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };
struct json {
	enum json_type type;
	int boolean;
	double number;
	char *str;		/* JSON_STRING: decoded UTF-8, NUL-terminated */
	size_t len;		/* its length (it may hold NULs) */
	char **keys;		/* JSON_OBJECT: key of each item */
	struct json *items;	/* JSON_ARRAY / JSON_OBJECT */
	size_t n;
};
#define JSON_MAX_DEPTH 16
int json_parse(const char *text, size_t len, struct json **out);
void json_free(struct json *j);
const struct json *json_get(const struct json *obj, const char *key);
/* The string value of key, or NULL when absent or not a string. */
const char *json_get_str(const struct json *obj, const char *key);

/* base64.c: standard alphabet with padding (RFC 4648) */
int base64_encode(struct buf *out, const void *in, size_t len);
/* Strict: whole input, padding required, no whitespace. */
int base64_decode(const char *in, size_t len, struct buf *out);

/* recline.c: lines of a hostile file, each at most REC_MAX_LINE bytes. */
struct recline {
	FILE *fp;
	struct buf line;
	unsigned long n;	/* lines returned so far */
};
void recline_init(struct recline *rl, FILE *fp);
/* 0 with *line (NUL-terminated, without its newline) and *complete (0 when the
 * file ended without a newline); 1 at the end; OTG_ERR_TOOBIG or OTG_ERR_IO. */
int recline_next(struct recline *rl, const char **line, size_t *len, int *complete);
void recline_free(struct recline *rl);

/* Metadata of a recorded session: the cast header's "otgate" object and the
 * stream header. Every string may come from a vendor and is escaped on output. */
struct rec_meta {
	char session[REC_ID_LEN + 1];
	char conn[REC_ID_LEN + 1];
	const char *user, *company, *asset, *src;
	const char *kind;	/* shell, exec, sftp, forward, ... */
	const char *policy;	/* SHA-256 of the policy that allowed it */
	const char *command;	/* exec command, "" for a shell */
	const char *title;
	const char *term;	/* TERM, into the cast header's env */
	unsigned width, height;	/* pty size; 0 for streams */
	time_t start;		/* Unix time the recording began */
};

/* cast.c: asciicast v2 encoding and a bounded reader. Text events ("o", "i")
 * carry a UTF-8 sequence split across reads to the next event; bytes that are
 * not UTF-8 go to "b" (output) or "bi" (input) events as base64. */
struct cast_text {
	uint8_t carry[4];
	size_t ncarry;
};
int cast_header(struct buf *out, const struct rec_meta *m);
/* Encode len bytes of direction code "o" or "i" at t_us (microseconds since
 * the start) as zero or more event lines; state keeps a split sequence. */
int cast_text(struct buf *out, struct cast_text *state, const char *code,
    uint64_t t_us, const void *data, size_t len);
/* Flush a carried incomplete sequence as a base64 event (at close). */
int cast_text_flush(struct buf *out, struct cast_text *state, const char *code,
    uint64_t t_us);
/* One event line with a text payload (resize "r", marker "m", exit "x"). */
int cast_event(struct buf *out, uint64_t t_us, const char *code, const char *text);

struct cast_reader;
struct cast_event {
	double t;		/* seconds since the start */
	char code[8];		/* "o" "i" "r" "m" "b" "bi" "x" or unknown */
	const uint8_t *data;	/* decoded bytes ("b"/"bi" base64 already decoded) */
	size_t len;
};
struct cast_header_info {
	unsigned width, height;
	double timestamp;
	struct json *header;	/* the whole header object; owned by the reader */
	const struct json *otgate;	/* its "otgate" object, or NULL */
};
/* Read a header line from fp. Errors: OTG_ERR_PROTO (not asciicast v2),
 * OTG_ERR_TOOBIG (line over REC_MAX_LINE), OTG_ERR_TRUNCATED. */
int cast_reader_open(FILE *fp, struct cast_reader **out);
const struct cast_header_info *cast_reader_header(const struct cast_reader *r);
/* Next event: 0 and *ev filled (valid until the next call), 1 at a clean end,
 * negative on a bad line (*line tells which, from 1). A last line cut without
 * its newline is OTG_ERR_TRUNCATED. */
int cast_reader_next(struct cast_reader *r, struct cast_event *ev);
unsigned long cast_reader_line(const struct cast_reader *r);
void cast_reader_free(struct cast_reader *r);

/* stream.c: the binary framed format of non-pty channels:
 * "OTGSTRM1" u32 hdrlen JSON-header, then frames u64 t_us, u8 dir, u32 len, bytes. */
#define STREAM_MAGIC "OTGSTRM1"
#define STREAM_MAX_HEADER 65536
enum {
	STREAM_OUT = 'o',	/* asset to vendor */
	STREAM_IN = 'i',	/* vendor to asset */
	STREAM_MARKER = 'm',
	STREAM_EXIT = 'x'
};
int stream_header(struct buf *out, const struct rec_meta *m);
/* Frames of at most 64 KiB each. */
int stream_frame(struct buf *out, uint64_t t_us, int dir, const void *data, size_t len);

struct stream_reader;
struct stream_frame {
	uint64_t t_us;
	int dir;
	const uint8_t *data;	/* valid until the next call */
	size_t len;
};
int stream_reader_open(FILE *fp, struct stream_reader **out);
const struct json *stream_reader_header(const struct stream_reader *r);
/* 0 and *f, 1 at a clean end, negative on a bad or cut frame. */
int stream_reader_next(struct stream_reader *r, struct stream_frame *f);
void stream_reader_free(struct stream_reader *r);

/* streamcast.c: a stream as asciicast, frame by frame (otgate export, incident
 * bundles): output as "o", input as "i", markers "m", exit "x". */
struct streamcast {
	struct cast_text out, in;
	uint64_t last;		/* time of the last frame */
};
/* The cast header from the stream's; session, when not NULL, names it. */
int streamcast_header(struct streamcast *sc, const struct json *h, const char *session,
    struct buf *out);
int streamcast_frame(struct streamcast *sc, const struct stream_frame *f, struct buf *out);
/* A character cut by the end of the stream, as base64 events. */
int streamcast_finish(struct streamcast *sc, struct buf *out);

/* pcapng.c: a forward's stream as pcap-ng (raw IPv4, synthetic TCP framing:
 * the vendor as 192.0.2.1, the device at its address and port; a handshake
 * before the first data, FINs at pcapng_close). Pure; big-endian blocks. */
struct pcapng_flow {
	uint8_t client_ip[4], server_ip[4];
	uint16_t client_port, server_port, ip_id;
	uint32_t client_seq, server_seq;
	int opened;
};
void pcapng_flow_init(struct pcapng_flow *fl, const uint8_t device_ip[4],
    uint16_t device_port);
int pcapng_header(struct buf *out);	/* section + interface blocks */
/* to_server: 1 for what the vendor sent (stream 'i'), 0 for the device's. */
int pcapng_data(struct buf *out, struct pcapng_flow *fl, uint64_t ts_us, int to_server,
    const void *data, size_t len);
int pcapng_close(struct buf *out, struct pcapng_flow *fl, uint64_t ts_us);

/* seal.c: the hash chain and the sidecar ID.seal (JSON lines, see FORMATS.md).
 * h_0 = 32 zero bytes; h_i = SHA-256(h_{i-1} || bytes since seal i-1).
 * Signed messages are fixed binary layouts, never the JSON text. */
struct seal_chain {
	void *sha;		/* EVP_MD_CTX over the bytes since the last seal */
	uint8_t h[REC_HASH_LEN];	/* last seal's h */
	uint64_t seq;		/* last seal's seq (0: none yet) */
	uint64_t offset;	/* bytes hashed so far */
	uint64_t sealed;	/* offset of the last seal */
};
int seal_chain_init(struct seal_chain *c);
int seal_chain_update(struct seal_chain *c, const void *data, size_t len);
/* Close the current segment: the new h into c->h, seq advanced. */
int seal_chain_next(struct seal_chain *c);
void seal_chain_free(struct seal_chain *c);
int seal_signer_init(void **signer, void *pkey);	/* EVP_PKEY *: once a session */
int seal_sign(void *signer, const void *msg, size_t len, uint8_t sig[REC_SIG_LEN]);
void seal_signer_free(void *signer);
void seal_hex_str(char *out, const uint8_t *p, size_t n);	/* out[2 * n + 1] */

struct seal_cert {
	char session[REC_ID_LEN + 1];
	uint8_t session_pub[REC_ED25519_LEN];
	uint64_t time_ms;	/* Unix ms the session key was certified */
	uint8_t key_fp[REC_HASH_LEN];	/* SHA-256 of the recording public key */
	uint8_t sig[REC_SIG_LEN];	/* by the recording key */
};
struct seal_record {
	uint64_t seq, offset, time_ms;
	uint8_t h[REC_HASH_LEN];
	int final;
	uint8_t sig[REC_SIG_LEN];	/* by the session key */
};
/* The exact bytes the recording key signs for a certificate. */
#define SEAL_CERT_MSG_LEN (24 + REC_ID_LEN + REC_ED25519_LEN + 8)
void seal_cert_message(uint8_t msg[SEAL_CERT_MSG_LEN], const char *session,
    const uint8_t pub[REC_ED25519_LEN], uint64_t time_ms);
#define SEAL_MSG_LEN (16 + REC_ID_LEN + 8 + 8 + 8 + REC_HASH_LEN + 1)
void seal_message(uint8_t msg[SEAL_MSG_LEN], const char *session,
    const struct seal_record *s);
int seal_cert_line(struct buf *out, const struct seal_cert *c);
int seal_record_line(struct buf *out, const struct seal_record *s);
/* Parse one line (without its newline): 0 with *is_cert set and the matching
 * struct filled; OTG_ERR_PROTO for anything else. */
int seal_parse_line(const char *line, size_t len, int *is_cert, struct seal_cert *cert,
    struct seal_record *rec);

/* reckey.c: Ed25519 keys. The long-term recording key lives in
 * STATE/keys/recording.key (0600, PKCS#8 PEM), its public half in
 * STATE/keys/recording-FP16.pub (kept after rotation so old recordings verify). */
#define RECKEY_PRIVATE "recording.key"
int reckey_generate(const char *keys_dir, char *pubpath, size_t pubpathsz);
int reckey_load_private(const char *path, void **pkey);	/* EVP_PKEY * */
void reckey_free(void *pkey);
int reckey_fingerprint(const uint8_t pub[REC_ED25519_LEN], uint8_t fp[REC_HASH_LEN]);
/* Sign a certificate for a session key with the recording key. */
int reckey_certify(void *pkey, const char *session, const uint8_t pub[REC_ED25519_LEN],
    uint64_t time_ms, uint8_t sig[REC_SIG_LEN], uint8_t fp[REC_HASH_LEN]);
/* Ed25519 helpers shared by the session keys and the verifier. */
int reckey_sign(void *pkey, const void *msg, size_t len, uint8_t sig[REC_SIG_LEN]);
int reckey_verify_raw(const uint8_t pub[REC_ED25519_LEN], const void *msg, size_t len,
    const uint8_t sig[REC_SIG_LEN]);
int reckey_new_session(void **pkey, uint8_t pub[REC_ED25519_LEN]);
/* The public recording keys of a folder (every *.pub), for verification. */
struct reckey_set {
	struct reckey_pub {
		uint8_t pub[REC_ED25519_LEN];
		uint8_t fp[REC_HASH_LEN];
	} *keys;
	size_t n;
};
int reckey_load_public_dir(const char *dir, struct reckey_set *out);
const uint8_t *reckey_set_find(const struct reckey_set *s, const uint8_t fp[REC_HASH_LEN]);
void reckey_set_free(struct reckey_set *s);

/* signer.c: the small process that alone holds the recording key. otgated
 * calls signer_start before it drops privileges; the child loads the key and
 * answers certificate requests on a socketpair, signing nothing else. A request
 * is a few hundred bytes and one Ed25519 signature: it returns in well under a
 * millisecond, so the loop may call it at session start. */
struct signer;
int signer_start(const char *key_path, struct signer **out);
int signer_certify(struct signer *s, const char *session,
    const uint8_t pub[REC_ED25519_LEN], uint64_t time_ms, uint8_t sig[REC_SIG_LEN],
    uint8_t fp[REC_HASH_LEN]);
/* signer_certify with the rec_certify_fn signature, arg being the signer. */
int signer_certify_cb(void *arg, const char *session,
    const uint8_t pub[REC_ED25519_LEN], uint64_t time_ms, uint8_t sig[REC_SIG_LEN],
    uint8_t fp[REC_HASH_LEN]);
void signer_stop(struct signer *s);

/* Who certifies a new session key: signer_certify (the broker) or
 * reckey_certify on a loaded key (tests, tools). */
typedef int rec_certify_fn(void *arg, const char *session,
    const uint8_t pub[REC_ED25519_LEN], uint64_t time_ms, uint8_t sig[REC_SIG_LEN],
    uint8_t fp[REC_HASH_LEN]);
/* Told about every seal as it is made, e.g. for a session.checkpoint audit event. */
struct rec_checkpoint {
	const char *session;
	const char *file;	/* recording file name, without .part */
	uint64_t seq, offset, time_ms;
	char h[2 * REC_HASH_LEN + 1];	/* hex */
	int final;
};
typedef void rec_checkpoint_fn(void *arg, const struct rec_checkpoint *cp);

/* transcript.c: terminal output to plain lines for the full-text index: escape
 * sequences dropped, carriage returns and backspaces applied, long lines cut. */
#define TRANSCRIPT_MAX_LINE 1024
typedef void transcript_line_fn(void *arg, double t, const char *line, size_t len);
struct transcript {
	char line[TRANSCRIPT_MAX_LINE];
	size_t len, col;
	int state;		/* escape-sequence parser state */
	double t;		/* time of the line's first byte */
	transcript_line_fn *cb;
	void *arg;
};
void transcript_init(struct transcript *tr, transcript_line_fn *cb, void *arg);
void transcript_feed(struct transcript *tr, double t, const void *data, size_t len);
void transcript_flush(struct transcript *tr);

/* index.c: STATE/index.sqlite (WAL): sessions and transcript lines (FTS5).
 * Synchronous; the broker drives it through indexer.c, off the loop. */
struct rec_index;
struct index_session {
	char id[REC_ID_LEN + 1];
	char conn[REC_ID_LEN + 1];
	const char *user, *company, *asset, *src, *kind;
	int64_t start, end;	/* Unix seconds; end 0 while active */
	int exit_status;	/* -1 unknown */
	uint64_t bytes_in, bytes_out;
	const char *recording;	/* path of the recording file */
};
int index_open(const char *path, struct rec_index **out);
/* For listings: never creates or changes the file, so an auditor who may only
 * read it (group otgate-audit, 0640) can search. OTG_ERR_NOTFOUND: no index. */
int index_open_readonly(const char *path, struct rec_index **out);
void index_close(struct rec_index *ix);
int index_begin(struct rec_index *ix);
int index_commit(struct rec_index *ix);
void index_rollback(struct rec_index *ix);
int index_put_session(struct rec_index *ix, const struct index_session *s);
int index_add_line(struct rec_index *ix, const char *session, double t, const char *line,
    size_t len);
int index_delete_session(struct rec_index *ix, const char *session);
/* The session's text is indexed only up to offset t (the live index dropped
 * the rest); index_delete_session, and so a rebuild, clears it. */
int index_set_partial(struct rec_index *ix, const char *session, double t);
/* Drop the rows of sessions whose recording file is gone (purged, moved). */
int index_prune(struct rec_index *ix, unsigned long *npruned);
struct index_query {
	const char *user, *asset;
	int64_t since, until;	/* 0: unbounded */
	const char *text;	/* search: the phrase */
};
typedef int index_session_fn(void *arg, const struct index_session *s);
typedef int index_match_fn(void *arg, const char *session, const char *user, int64_t start,
    double t, const char *line);
int index_sessions(struct rec_index *ix, const struct index_query *q,
    index_session_fn *cb, void *arg);
int index_search(struct rec_index *ix, const struct index_query *q, index_match_fn *cb,
    void *arg);
/* Sessions under q's user/asset/since/until filters that are indexed in part. */
int index_partial_count(struct rec_index *ix, const struct index_query *q,
    unsigned long *n);

/* reindex.c: index rows rebuilt from recordings (`otgate index rebuild`, and
 * recordings the broker found interrupted). Plain text of the output goes
 * into the transcript; a damaged recording is indexed up to the damage. */
struct recfile;
int reindex_recording(struct rec_index *ix, const struct recfile *f, void *key,
    unsigned long *nlines);

/* indexer.c: a helper thread that owns the index for the broker. Calls only
 * queue (an atomic push, no lock, no I/O) and never block the loop; the thread
 * commits what is queued at least every second, working at most a tenth of
 * the time. A full queue drops a batch of transcript lines and marks the
 * session partial from there on (index_set_partial; `otgate index rebuild`
 * completes it); session rows are never dropped. */
struct indexer;
struct indexer_item;
int indexer_start(const char *path, struct indexer **out);
int indexer_session(struct indexer *x, const struct index_session *s);
/* One line queued by itself. */
int indexer_line(struct indexer *x, const char *session, double t, const char *line,
    size_t len);
/* Lines gathered in *batch (NULL to start), queued when it holds 16 KiB or
 * at indexer_batch_send (once a second at least). OTG_ERR_TOOBIG: the queue
 * was full, the batch is dropped and the session marked partial: send that
 * session's lines no more. */
int indexer_batch_line(struct indexer *x, struct indexer_item **batch,
    const char *session, double t, const char *line, size_t len);
int indexer_batch_send(struct indexer *x, struct indexer_item **batch);
void indexer_batch_free(struct indexer_item **batch);
unsigned long long indexer_dropped(struct indexer *x);
void indexer_stop(struct indexer *x);	/* commits what is queued, joins */

/* atrest.c: encryption at rest (recording-recipient). The file starts with
 * "OTGENC01", a recipient count and one stanza per auditor X25519 key; then
 * AES-256-GCM chunks (u32 len, u8 flags, ciphertext, tag). See FORMATS.md. */
#define ATREST_MAGIC "OTGENC01"
#define ATREST_MAX_RECIPIENTS 16
#define ATREST_MAX_CHUNK 65536
struct atrest_writer;
/* A fresh file key wrapped to each recipient; the header bytes go to header. */
int atrest_writer_new(const char *session, const uint8_t (*recipients)[32], size_t n,
    struct buf *header, struct atrest_writer **out);
/* One chunk of at most ATREST_MAX_CHUNK plaintext bytes; last on the final one. */
int atrest_chunk(struct atrest_writer *w, const void *plain, size_t len, int last,
    struct buf *out);
void atrest_writer_free(struct atrest_writer *w);	/* wipes the file key */
/* An auditor key pair: private PKCS#8 PEM 0600, public SPKI PEM. */
int atrest_keygen(const char *priv_path, const char *pub_path);
int atrest_public_load(const char *path, uint8_t pub[32]);
int atrest_key_load(const char *path, void **pkey);	/* refuses loose modes */
void atrest_key_free(void *pkey);
/* A FILE * of the plaintext of an encrypted recording read from in (which
 * it takes over on success). Damage or a cut ends the plaintext early at the
 * last authenticated chunk. OTG_ERR_NOTFOUND: not encrypted to this key. */
int atrest_open(FILE *in, const char *session, void *pkey, FILE **out);

/* recworker.c: one thread that writes, hashes and seals recordings for the
 * broker's loop (recording_params.worker). Jobs run in push order; a client
 * (one recording) may have 128 KiB queued and all clients 16 MiB, past which
 * recworker_push waits for the worker: with the loop's 128 KiB jobs, a
 * recording is about 256 KiB behind at most (one job at work, one queued). */
struct recworker;
struct recworker_client {	/* zeroed by its owner; fields are the worker's */
	size_t queued;
	unsigned jobs;
	struct buf spare;
	int has_spare;
};
typedef void recworker_fn(void *arg, struct buf *data, uint64_t t, int final);
int recworker_start(struct recworker **out);
void recworker_stop(struct recworker *w);	/* runs what is queued, joins */
/* Queue fn(arg, data, t, final) on the worker, which takes *data over; *data
 * becomes an empty buffer (the client's spare when it has one). */
int recworker_push(struct recworker *w, struct recworker_client *c, recworker_fn *fn,
    void *arg, struct buf *data, uint64_t t, int final);
void recworker_drain(struct recworker *w, struct recworker_client *c);	/* NULL w: no-op */
void recworker_client_free(struct recworker_client *c);

/* recording.c: the writer the broker drives for one channel. Everything is
 * buffered in memory and written (never fsync'd) when a second has passed,
 * 64 KiB are pending (128 KiB with a worker), or at close; call
 * recording_tick at least once a second from a timer. Any failure is sticky:
 * every later call returns it, and the caller must end the session (fail
 * closed); recording_why says why.
 *
 * The broker, at start: signer_start(STATE/keys/recording.key) before it drops
 * privileges and loads secrets; indexer_start(STATE/index.sqlite);
 * recording_recover(STATE, cb, arg) to audit what a crash left open. Per
 * recorded channel:
 *   recording_open         before the first byte is relayed; on failure
 *                          refuse with "recording failed: " recording_why
 *   recording_marker       "login", "approval", "transfer ..." as they happen
 *   recording_output/input each read, before it is written to the other side;
 *                          nonzero: end the session, never relay the bytes
 *   recording_resize       on window-change (pty)
 *   recording_tick         from a one-second timer
 *   recording_close        at channel close, with the exit status
 * Times are recording_clock(rec). The checkpoint callback runs where the seal
 * is made: inside these calls, on the loop; or, with a worker
 * (recording_params.worker), which writes, hashes and seals the files, on the
 * worker's thread, so it must be thread-safe then. A failure on the worker is
 * returned by the next call; recording_close and recording_abort wait for the
 * worker, so a recording's last checkpoint is reported before they return. */
struct recording;
struct recording_params {
	const char *state_dir;	/* recordings go under STATE/recordings/YYYY/MM/DD/ */
	struct rec_meta meta;	/* session "" for a fresh random ID; start 0 for now */
	int pty;		/* 1: asciicast, 0: stream */
	int record_input;	/* role's record-input */
	rec_certify_fn *certify;
	void *certify_arg;
	rec_checkpoint_fn *checkpoint;	/* may be NULL; see above for its thread */
	void *checkpoint_arg;
	struct indexer *index;	/* may be NULL */
	struct recworker *worker;	/* NULL: written on the caller's thread */
	/* recording-recipient: encrypt to these X25519 public keys (the index
	 * then gets metadata only); none: plain */
	const uint8_t (*recipients)[32];
	size_t nrecipients;
};
int recording_open(const struct recording_params *p, struct recording **out);
const char *recording_id(const struct recording *rec);
const char *recording_path(const struct recording *rec);	/* final name */
/* The file being written: ID.cast.part (.stream.part, ...) until the close
 * renames it to recording_path. */
const char *recording_file(const struct recording *rec);
/* Microseconds since the recording began (CLOCK_MONOTONIC). */
uint64_t recording_clock(const struct recording *rec);
int recording_output(struct recording *rec, uint64_t t_us, const void *data, size_t len);
int recording_input(struct recording *rec, uint64_t t_us, const void *data, size_t len);
int recording_resize(struct recording *rec, uint64_t t_us, unsigned width,
    unsigned height);
int recording_marker(struct recording *rec, uint64_t t_us, const char *label);
int recording_tick(struct recording *rec, uint64_t t_us);
/* Final seal, rename .part away, wipe the session key, free. exit_status -1 when
 * unknown. Returns the first error of the recording's life, if any. */
int recording_close(struct recording *rec, uint64_t t_us, int exit_status);
/* Free after a failure without sealing or renaming. */
void recording_abort(struct recording *rec);
const char *recording_why(const struct recording *rec);
/* Until the worker has written what it was handed; then the first error. */
int recording_wait(struct recording *rec);
/* At broker start: rename every *.part under STATE/recordings to its final
 * name (its seals have no final one, so verify reports it interrupted); cb is
 * told each one. Returns how many, or a negative error. */
int recording_recover(const char *state_dir, void (*cb)(void *arg, const char *path),
    void *arg);

/* recfile.c: where recordings live and how auditors name them. */
enum rec_format { REC_CAST, REC_STREAM };
struct recfile {
	char path[4096];	/* recording file (possibly .part) */
	char seal[4096];	/* ID.seal beside it */
	char id[REC_ID_LEN + 1];
	enum rec_format format;
	int part;		/* still open or interrupted */
	int encrypted;		/* ID.cast.enc / ID.stream.enc */
};
/* Classify a file name: 0 and *f filled, or OTG_ERR_INVAL. */
int recfile_from_path(const char *path, struct recfile *f);
/* Every recording under STATE/recordings, in path order; cb returning
 * nonzero stops the walk with that value. */
int recfile_walk(const char *state_dir, int (*cb)(void *arg, const struct recfile *f),
    void *arg);
/* An ID, a unique prefix of 8+ hex, or a path. OTG_ERR_NOTFOUND, or
 * OTG_ERR_EXISTS when a prefix is ambiguous. */
int recfile_find(const char *state_dir, const char *what, struct recfile *f);
/* The recording's plaintext: the file itself, or decrypted with key (an
 * atrest_key_load key; NULL when none was given: OTG_ERR_PERM if encrypted). */
int recfile_open(const struct recfile *f, void *key, FILE **out);

/* recstate.c: where the auditor verbs find recordings: --state DIR (a copy of
 * the broker's state on an auditor's machine), else otgated.conf's state. */
struct recstate {
	char state[4096];
	char audit_log[4096];	/* "" when only --state was given */
};
/* Problems with the config go to stderr; OTG_ERR_INVAL then. */
int recstate_resolve(const char *conf_path, const char *state_opt, struct recstate *out);
/* "2026-11-23T14:00:00Z" */
void recstate_time(time_t t, char *out, size_t outsz);
/* A --since/--until argument (timearg syntax in the host zone). */
int recstate_timearg(const char *s, time_t *out);
/* recfile_open with the auditor key in keyfile (NULL: none); problems are
 * told on stderr as "otgate: VERB: ...". */
int recstate_open(const struct recfile *f, const char *keyfile, const char *verb,
    FILE **out);
/* The options the index listings share (`sessions`, `search`): --state DIR,
 * --user U, --since T, --json, and with RECSTATE_QUERY_ASSET / _UNTIL also
 * --asset A and --until T. Leaves optind at the first operand; a bad option
 * or time is told on stderr (usage, or "otgate: VERB: bad time"): -1. */
#define RECSTATE_QUERY_ASSET 0x01
#define RECSTATE_QUERY_UNTIL 0x02
struct recstate_query {
	const char *state;	/* --state, NULL when not given */
	int json;
	struct index_query q;
};
int recstate_query_args(int argc, char **argv, const char *verb, const char *usage,
    unsigned allow, struct recstate_query *out);
/* The session index of the state conf_path or state_opt names, read-only.
 * OTG_ERR_INVAL when the state cannot be resolved (a usage problem); other
 * errors are told on stderr as "otgate: VERB: PATH: ...". */
int recstate_index_open(const char *conf_path, const char *state_opt, const char *verb,
    struct rec_index **out);

/* verify.c: check one recording against its seals and the public keys. */
enum verify_status {
	VERIFY_OK,		/* "verified" */
	VERIFY_UNSEALED_TAIL,	/* "unsealed tail at B" */
	VERIFY_INTERRUPTED,	/* "interrupted" */
	VERIFY_TAMPERED,	/* "tampered at B" */
	VERIFY_MISSING,		/* no seal file, or no recording */
	VERIFY_BADSIG		/* certificate or seal not validly signed */
};
struct verify_result {
	enum verify_status status;
	uint64_t offset;	/* B */
	uint64_t nseals;
	char why[256];		/* detail for tampered/missing/badsig */
};
int verify_recording(const struct recfile *f, const struct reckey_set *keys,
    struct verify_result *res);
/* Seal values exported off the host as session.checkpoint events (audit log
 * or syslog lines holding {"event":"session.checkpoint","session":ID,"seal":N,
 * "offset":B,"h":HEX,...} after any prefix; N is the seal's seq). */
struct verify_checkpoints {
	struct verify_checkpoint {
		char session[REC_ID_LEN + 1];
		uint64_t seq, offset;
		uint8_t h[REC_HASH_LEN];
	} *v;
	size_t n;
};
/* Lines that are not checkpoints are skipped; *nbad counts damaged ones. */
int verify_checkpoints_load(const char *path, struct verify_checkpoints *out,
    unsigned long *nbad);
void verify_checkpoints_free(struct verify_checkpoints *c);
/* verify_recording, and every exported checkpoint of the session must match
 * its seal: a seal file cut back or rewritten after export is tampering. */
int verify_recording_against(const struct recfile *f, const struct reckey_set *keys,
    const struct verify_checkpoints *cps, struct verify_result *res);
/* "ID: verified" etc. into buf. */
void verify_format(const struct recfile *f, const struct verify_result *res, char *out,
    size_t outsz);

/* neutralise.c: terminal output made safe for an auditor's terminal: OSC
 * (clipboard, title, colour queries), DCS/APC/PM/SOS strings, report queries
 * and window operations are dropped; C1 controls and stray bytes too. The
 * state carries across calls so a sequence split between events is handled. */
struct neutralise {
	int state;
	int need;		/* UTF-8 continuation bytes still expected */
	char csi[64];		/* parameters of the CSI sequence being read */
	size_t ncsi;
};
void neutralise_init(struct neutralise *n);
int neutralise_feed(struct neutralise *n, struct buf *out, const void *data, size_t len);

#endif
