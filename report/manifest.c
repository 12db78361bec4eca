/*
 * manifest.c: what makes a bundle evidence. MANIFEST.sha256 lists the SHA-256
 * of every file in the bundle, in the format `sha256sum -c` checks, and
 * MANIFEST.sha256.sig signs it with the recording key (SSHSIG, namespace
 * otgate-report), so one signature covers every byte. Verification also
 * refuses files the manifest does not list: evidence cannot be slipped in.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "report/report.h"

#define MANIFEST_MAX (16u * 1024 * 1024)
#define MANIFEST_MAX_DEPTH 8

static int
manifest_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every plain file under dir/rel into files, as paths relative to dir; links
 * and special files into odd, so verification can refuse them. */
static int
manifest_list(const char *dir, const char *rel, int depth, struct strlist *files,
    struct strlist *odd)
{
	char path[4096], sub[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	if (depth > MANIFEST_MAX_DEPTH)
		return OTG_ERR_TOOBIG;
	if (snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel) >=
	    (int)sizeof(path))
		return OTG_ERR_TOOBIG;
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
		    de->d_name) >= (int)sizeof(sub) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, sub) >= (int)sizeof(path)) {
			r = OTG_ERR_TOOBIG;
			break;
		}
		if (lstat(path, &st) != 0)
			r = OTG_ERR_IO;
		else if (S_ISDIR(st.st_mode))
			r = manifest_list(dir, sub, depth + 1, files, odd);
		else
			r = strlist_push(S_ISREG(st.st_mode) ? files : odd, sub);
	}
	closedir(d);
	return r;
}

static int
manifest_hash_file(const char *path, char hex[65])
{
	uint8_t chunk[65536], h[EVP_MAX_MD_SIZE];
	unsigned int hn = 0, i;
	EVP_MD_CTX *ctx;
	ssize_t n;
	int fd, r = OTG_ERR_CRYPTO;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		close(fd);
		return OTG_ERR_NOMEM;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = OTG_ERR_IO;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, h, &hn) != 1 || hn != 32)
		goto out;
	for (i = 0; i < hn; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return r;
}

static int
manifest_is_own(const char *rel)
{
	return strcmp(rel, MANIFEST_NAME) == 0 || strcmp(rel, MANIFEST_SIG_NAME) == 0;
}

static int
manifest_write_file(const char *dir, const char *name, const struct buf *b)
{
	char path[4096];
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return OTG_ERR_TOOBIG;
	if ((fd = file_create(path, 0644)) == -1)
		return errno == EEXIST ? OTG_ERR_EXISTS : OTG_ERR_IO;
	if (write(fd, buf_ptr(b), buf_len(b)) != (ssize_t)buf_len(b))
		r = OTG_ERR_IO;
	if (close(fd) != 0 && r == 0)
		r = OTG_ERR_IO;
	return r;
}

int
manifest_write(const char *dir, void *pkey)
{
	struct strlist files = { NULL, 0 }, odd = { NULL, 0 };
	struct buf man, sig;
	char path[4096], hex[65];
	size_t i;
	int r;

	buf_init(&man, MANIFEST_MAX);
	buf_init(&sig, 65536);
	if ((r = manifest_list(dir, "", 0, &files, &odd)) != 0)
		goto out;
	/* the bundle was made by us: anything but plain files is a bug */
	if (odd.n > 0) {
		r = OTG_ERR_INVAL;
		goto out;
	}
	qsort(files.v, files.n, sizeof(*files.v), manifest_name_cmp);
	for (i = 0; i < files.n; i++) {
		if (manifest_is_own(files.v[i]))
			continue;
		if (strchr(files.v[i], '\n') != NULL) {
			r = OTG_ERR_INVAL;
			goto out;
		}
		if (snprintf(path, sizeof(path), "%s/%s", dir, files.v[i]) >=
		    (int)sizeof(path)) {
			r = OTG_ERR_TOOBIG;
			goto out;
		}
		if ((r = manifest_hash_file(path, hex)) != 0 ||
		    (r = buf_printf(&man, "%s  %s\n", hex, files.v[i])) != 0)
			goto out;
	}
	if ((r = sshsig_sign(pkey, SSHSIG_NAMESPACE, buf_ptr(&man), buf_len(&man),
	    &sig)) != 0)
		goto out;
	if ((r = manifest_write_file(dir, MANIFEST_NAME, &man)) == 0)
		r = manifest_write_file(dir, MANIFEST_SIG_NAME, &sig);
out:
	strlist_free(&files);
	strlist_free(&odd);
	buf_free(&man);
	buf_free(&sig);
	return r;
}

static void
manifest_fp_hex(const uint8_t pub[REC_ED25519_LEN], char out[65])
{
	uint8_t fp[REC_HASH_LEN];
	size_t i;

	out[0] = '\0';
	if (reckey_fingerprint(pub, fp) != 0)
		return;
	for (i = 0; i < REC_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", fp[i]);
}

/* Check one manifest line "HEX  PATH"; its path goes into *rel. */
static int
manifest_check_line(const char *dir, char *line, const char **rel, FILE *fp)
{
	char path[4096], hex[65], esc[512];
	size_t i;
	int r;

	*rel = NULL;
	for (i = 0; i < 64; i++)
		if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f')))
			break;
	if (i != 64 || line[64] != ' ' || line[65] != ' ' || line[66] == '\0' ||
	    line[66] == '/' || strstr(line + 66, "..") != NULL) {
		fprintf(fp, "manifest: malformed line '%s'\n", escape_str(esc, sizeof(esc),
		    line));
		return OTG_ERR_BADSIG;
	}
	*rel = line + 66;
	if (snprintf(path, sizeof(path), "%s/%s", dir, *rel) >= (int)sizeof(path))
		return OTG_ERR_TOOBIG;
	if ((r = manifest_hash_file(path, hex)) != 0) {
		fprintf(fp, "%s: %s\n", escape_str(esc, sizeof(esc), *rel),
		    r == OTG_ERR_NOTFOUND ? "listed but missing" : otg_strerror(r));
		return OTG_ERR_BADSIG;
	}
	if (CRYPTO_memcmp(hex, line, 64) != 0) {
		fprintf(fp, "%s: changed (SHA-256 %s, manifest %.64s)\n",
		    escape_str(esc, sizeof(esc), *rel), hex, line);
		return OTG_ERR_BADSIG;
	}
	return 0;
}

/* The signature names its key; that key must be one we trust. */
static int
manifest_check_signer(const char *dir, const uint8_t pub[REC_ED25519_LEN],
    const struct reckey_set *keys, FILE *fp)
{
	struct reckey_set own = { NULL, 0 };
	uint8_t fp_raw[REC_HASH_LEN];
	char path[4096], fphex[65];
	int r = OTG_ERR_BADSIG;

	manifest_fp_hex(pub, fphex);
	if (reckey_fingerprint(pub, fp_raw) != 0)
		return OTG_ERR_CRYPTO;
	if (keys != NULL && keys->n > 0) {
		if (reckey_set_find(keys, fp_raw) != NULL) {
			fprintf(fp, "signature: good, by recording key %s\n", fphex);
			return 0;
		}
		fprintf(fp, "signature: by key %s, which is not a known recording key\n",
		    fphex);
		return OTG_ERR_BADSIG;
	}
	/* no keys of our own: the bundle's copy, which only the fingerprint,
	 * compared out of band, can vouch for */
	if (snprintf(path, sizeof(path), "%s/keys", dir) < (int)sizeof(path) &&
	    reckey_load_public_dir(path, &own) == 0 && reckey_set_find(&own, fp_raw) != NULL) {
		fprintf(fp, "signature: good, by the bundle's own key %s "
		    "(compare this fingerprint with the broker's out of band)\n", fphex);
		r = 0;
	} else {
		fprintf(fp, "signature: by key %s, not in the bundle's keys/\n", fphex);
	}
	reckey_set_free(&own);
	return r;
}

/* The recordings under sessions/, as verify would judge them now. */
static void
manifest_recordings(const char *dir, const struct strlist *files,
    const struct reckey_set *keys, FILE *fp)
{
	struct reckey_set own = { NULL, 0 };
	const struct reckey_set *use = keys;
	struct verify_result res;
	struct recfile f;
	char path[4096], line[1024];
	size_t i;

	if (use == NULL || use->n == 0) {
		snprintf(path, sizeof(path), "%s/keys", dir);
		if (reckey_load_public_dir(path, &own) == 0)
			use = &own;
	}
	for (i = 0; i < files->n; i++) {
		if (strncmp(files->v[i], "sessions/", 9) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, files->v[i]) >=
		    (int)sizeof(path) || recfile_from_path(path, &f) != 0)
			continue;
		if (use == NULL || verify_recording(&f, use, &res) != 0)
			continue;
		verify_format(&f, &res, line, sizeof(line));
		fprintf(fp, "recording %s\n", line);
	}
	reckey_set_free(&own);
}

int
manifest_verify(const char *dir, const struct reckey_set *keys, FILE *fp)
{
	struct strlist files = { NULL, 0 }, odd = { NULL, 0 }, listed = { NULL, 0 };
	uint8_t pub[REC_ED25519_LEN];
	char path[4096], *man = NULL, *sig = NULL, *line, *save = NULL, esc[512];
	const char *rel;
	size_t manlen = 0, siglen = 0, i, nfiles = 0;
	int r, bad = 0;

	if ((r = manifest_list(dir, "", 0, &files, &odd)) != 0) {
		fprintf(fp, "%s: %s\n", dir, otg_strerror(r));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_NAME);
	if ((r = file_read(path, MANIFEST_MAX, &man, &manlen)) != 0) {
		fprintf(fp, "%s: %s\n", MANIFEST_NAME, otg_strerror(r));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_SIG_NAME);
	if ((r = file_read(path, 65536, &sig, &siglen)) != 0) {
		fprintf(fp, "%s: %s\n", MANIFEST_SIG_NAME, otg_strerror(r));
		goto out;
	}
	r = sshsig_verify(sig, siglen, SSHSIG_NAMESPACE, man, manlen, pub);
	if (r != 0) {
		fprintf(fp, "signature: %s\n", r == OTG_ERR_PROTO ?
		    "not an SSH signature" : "does not verify over " MANIFEST_NAME);
		bad = 1;
	} else if (manifest_check_signer(dir, pub, keys, fp) != 0) {
		bad = 1;
	}
	if (memchr(man, '\0', manlen) != NULL || (manlen > 0 && man[manlen - 1] != '\n')) {
		fprintf(fp, "manifest: not a text file of lines\n");
		bad = 1;
		goto out;
	}
	for (line = strtok_r(man, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (manifest_check_line(dir, line, &rel, fp) != 0)
			bad = 1;
		if (rel != NULL && (r = strlist_push(&listed, rel)) != 0)
			goto out;
		nfiles++;
	}
	for (i = 0; i < files.n; i++) {
		if (manifest_is_own(files.v[i]) || strlist_contains(&listed, files.v[i]))
			continue;
		fprintf(fp, "%s: not listed in the manifest\n",
		    escape_str(esc, sizeof(esc), files.v[i]));
		bad = 1;
	}
	for (i = 0; i < odd.n; i++) {
		fprintf(fp, "%s: not a plain file (a link or device has no place in a "
		    "bundle)\n", escape_str(esc, sizeof(esc), odd.v[i]));
		bad = 1;
	}
	manifest_recordings(dir, &files, keys, fp);
	if (!bad)
		fprintf(fp, "bundle verified: %zu files, all listed and unchanged\n", nfiles);
	r = 0;
out:
	free(man);
	free(sig);
	strlist_free(&files);
	strlist_free(&odd);
	strlist_free(&listed);
	if (r == 0 && bad)
		r = OTG_ERR_BADSIG;
	return r;
}
