/*
 * vault.c: the credentials the broker uses on assets, which vendors never see.
 * VAULT/NAME.key holds an unencrypted OpenSSH private key, VAULT/NAME.password a
 * password on one line. The folder is 0700 and every entry 0600, owned by the
 * broker's user (or root); anything looser is refused with the reason, like
 * OpenSSH refuses an unprotected key. Each secret is read from the descriptor
 * whose permissions were checked, and stores are atomic so a broker reading
 * during a rotation sees the old secret or the new one, never half of either.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"

#define VAULT_FILE_MAX (64u * 1024u)	/* an RSA-16384 key fits */
#define VAULT_PASSWORD_MAX 1024

static void
vault_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* The folder: a directory, ours or root's (root may use the broker's),
 * closed to group and others. */
static int
vault_check_dir(const char *dir, struct stat *st, char *why, size_t whysz)
{
	if (lstat(dir, st) == -1) {
		snprintf(why, whysz, "vault %s: %s", dir, strerror(errno));
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	}
	if (!S_ISDIR(st->st_mode)) {
		snprintf(why, whysz, "vault %s: not a directory", dir);
		return OTG_ERR_PERM;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid() && geteuid() != 0) {
		snprintf(why, whysz, "vault %s: owned by uid %u, not by us", dir,
		    (unsigned)st->st_uid);
		return OTG_ERR_PERM;
	}
	if ((st->st_mode & 077) != 0) {
		snprintf(why, whysz, "vault %s: mode %04o is too open (want 0700)", dir,
		    (unsigned)(st->st_mode & 07777));
		return OTG_ERR_PERM;
	}
	return 0;
}

static int
vault_path(char *path, size_t pathsz, const char *dir, const char *name,
    const char *suffix, char *why, size_t whysz)
{
	char shown[96];

	if (name == NULL || name[0] == '\0') {
		snprintf(why, whysz, "bad vault entry name: empty");
		return OTG_ERR_INVAL;
	}
	if (!value_name_ok(name)) {
		snprintf(why, whysz, "bad vault entry name '%s'",
		    escape_str(shown, sizeof(shown), name));
		return OTG_ERR_INVAL;
	}
	if (snprintf(path, pathsz, "%s/%s%s", dir, name, suffix) >= (int)pathsz) {
		snprintf(why, whysz, "vault path too long");
		return OTG_ERR_TOOBIG;
	}
	return 0;
}

/* Read the whole secret file through fd; the caller wipes and frees *out. */
static int
vault_read_fd(int fd, const char *path, char **out, size_t *len, char *why, size_t whysz)
{
	char *data;
	size_t n = 0;
	ssize_t got;

	*out = NULL;
	if ((data = malloc(VAULT_FILE_MAX + 1)) == NULL)
		return OTG_ERR_NOMEM;
	for (;;) {
		got = read(fd, data + n, VAULT_FILE_MAX + 1 - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			snprintf(why, whysz, "%s: %s", path, strerror(errno));
			vault_free_secret(data, VAULT_FILE_MAX + 1);
			return OTG_ERR_IO;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > VAULT_FILE_MAX) {
			snprintf(why, whysz, "%s: larger than %u bytes", path, VAULT_FILE_MAX);
			vault_free_secret(data, VAULT_FILE_MAX + 1);
			return OTG_ERR_TOOBIG;
		}
	}
	data[n] = '\0';
	*out = data;
	*len = n;
	return 0;
}

/* The one password line: a final newline dropped, nothing else allowed. */
static int
vault_password_ok(const char *s, size_t len, size_t *used, char *why, size_t whysz)
{
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len == 0) {
		snprintf(why, whysz, "the password is empty");
		return OTG_ERR_INVAL;
	}
	if (len > VAULT_PASSWORD_MAX) {
		snprintf(why, whysz, "the password is longer than %d bytes", VAULT_PASSWORD_MAX);
		return OTG_ERR_TOOBIG;
	}
	if (memchr(s, '\0', len) != NULL || memchr(s, '\n', len) != NULL ||
	    memchr(s, '\r', len) != NULL) {
		snprintf(why, whysz, "the password must be one line");
		return OTG_ERR_INVAL;
	}
	*used = len;
	return 0;
}

static int
vault_import_key(const char *data, const char *path, ssh_key *key, char *why, size_t whysz)
{
	/* NULL passphrase and no prompt: an encrypted key fails instead of blocking */
	if (ssh_pki_import_privkey_base64(data, NULL, NULL, NULL, key) != SSH_OK) {
		snprintf(why, whysz, "%s: not an unencrypted OpenSSH private key", path);
		return OTG_ERR_PROTO;
	}
	return 0;
}

static int
vault_open_entry(const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (*fd == -1)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	return 0;
}

/* Root (otgate asset credential) may read an entry of the folder's owner, the
 * broker's user; everything else goes through file_check_secret. */
static int
vault_check_entry(int fd, const char *path, const struct stat *dirst, char *why,
    size_t whysz)
{
	struct stat st;

	if (geteuid() == 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == dirst->st_uid && (st.st_mode & 077) == 0)
		return 0;
	return file_check_secret(fd, path, why, whysz);
}

int
vault_load(const char *dir, const char *name, struct vault_secret *out, char *why,
    size_t whysz)
{
	char keypath[PATH_MAX], pwpath[PATH_MAX], *data = NULL;
	const char *path;
	size_t len = 0, used;
	struct stat st;
	int keyfd = -1, pwfd = -1, fd, rk, rp, r;

	memset(out, 0, sizeof(*out));
	if ((r = vault_path(keypath, sizeof(keypath), dir, name, ".key", why, whysz)) != 0 ||
	    (r = vault_path(pwpath, sizeof(pwpath), dir, name, ".password", why,
	    whysz)) != 0 || (r = vault_check_dir(dir, &st, why, whysz)) != 0)
		return r;
	rk = vault_open_entry(keypath, &keyfd);
	rp = vault_open_entry(pwpath, &pwfd);
	if (rk == 0 && rp == 0) {
		snprintf(why, whysz, "vault entry %s has both a .key and a .password: "
		    "remove one", name);
		r = OTG_ERR_EXISTS;
		goto out;
	}
	if (rk != 0 && rp != 0) {
		if (rk == OTG_ERR_NOTFOUND && rp == OTG_ERR_NOTFOUND)
			snprintf(why, whysz, "no vault entry %s (%s or %s)", name, keypath,
			    pwpath);
		else
			snprintf(why, whysz, "vault entry %s: %s", name, strerror(errno));
		r = rk == OTG_ERR_NOTFOUND ? rp : rk;
		goto out;
	}
	fd = rk == 0 ? keyfd : pwfd;
	path = rk == 0 ? keypath : pwpath;
	if ((r = vault_check_entry(fd, path, &st, why, whysz)) != 0 ||
	    (r = vault_read_fd(fd, path, &data, &len, why, whysz)) != 0)
		goto out;
	if (rk == 0) {
		r = vault_import_key(data, path, &out->key, why, whysz);
		goto out;
	}
	if ((r = vault_password_ok(data, len, &used, why, whysz)) != 0)
		goto out;
	if ((out->password = strndup(data, used)) == NULL)
		r = OTG_ERR_NOMEM;
out:
	vault_free_secret(data, VAULT_FILE_MAX + 1);
	if (keyfd != -1)
		close(keyfd);
	if (pwfd != -1)
		close(pwfd);
	return r;
}

void
vault_secret_clear(struct vault_secret *s)
{
	if (s->key != NULL)
		ssh_key_free(s->key);
	if (s->password != NULL)
		vault_free_secret(s->password, strlen(s->password));
	s->key = NULL;
	s->password = NULL;
}

/* Folder for a store: created 0700 when missing, then held to the load rules. */
static int
vault_prepare_dir(const char *dir, struct stat *st, char *why, size_t whysz)
{
	int r;

	if ((r = vault_check_dir(dir, st, why, whysz)) != OTG_ERR_NOTFOUND)
		return r;
	if (file_mkdirs(dir, 0700) != 0 || chmod(dir, 0700) == -1) {
		snprintf(why, whysz, "vault %s: %s", dir, strerror(errno));
		return OTG_ERR_IO;
	}
	return vault_check_dir(dir, st, why, whysz);
}

/* Write one entry and remove the other kind, so exactly one secret remains.
 * Root storing into the broker's folder hands the file to the folder's owner,
 * or the broker could not read it. */
static int
vault_store(const char *dir, const char *name, const char *suffix,
    const char *other_suffix, const void *data, size_t len, char *why, size_t whysz)
{
	char path[PATH_MAX], other[PATH_MAX];
	struct stat st;
	int r;

	if ((r = vault_path(path, sizeof(path), dir, name, suffix, why, whysz)) != 0 ||
	    (r = vault_path(other, sizeof(other), dir, name, other_suffix, why, whysz)) != 0 ||
	    (r = vault_prepare_dir(dir, &st, why, whysz)) != 0)
		return r;
	if (file_write_atomic(path, data, len, 0600) != 0) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return OTG_ERR_IO;
	}
	if (geteuid() == 0 && st.st_uid != 0 &&
	    fchownat(AT_FDCWD, path, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) == -1) {
		snprintf(why, whysz, "%s: chown: %s", path, strerror(errno));
		unlink(path);
		return OTG_ERR_IO;
	}
	if (unlink(other) == -1 && errno != ENOENT) {
		snprintf(why, whysz, "%s: %s", other, strerror(errno));
		return OTG_ERR_IO;
	}
	return 0;
}

int
vault_store_key(const char *dir, const char *name, const char *keyfile, char *why,
    size_t whysz)
{
	char *data = NULL;
	ssh_key key = NULL;
	size_t len = 0;
	int fd, r;

	if ((fd = open(keyfile, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(why, whysz, "%s: %s", keyfile, strerror(errno));
		return OTG_ERR_IO;
	}
	r = vault_read_fd(fd, keyfile, &data, &len, why, whysz);
	close(fd);
	if (r != 0)
		return r;
	/* store only what the broker will be able to use */
	if ((r = vault_import_key(data, keyfile, &key, why, whysz)) != 0)
		goto out;
	r = vault_store(dir, name, ".key", ".password", data, len, why, whysz);
out:
	ssh_key_free(key);
	vault_free_secret(data, VAULT_FILE_MAX + 1);
	return r;
}

int
vault_store_password(const char *dir, const char *name, const char *password, char *why,
    size_t whysz)
{
	char *line;
	size_t len, used;
	int r;

	len = strnlen(password, VAULT_PASSWORD_MAX + 1);
	if ((r = vault_password_ok(password, len, &used, why, whysz)) != 0)
		return r;
	if ((line = malloc(used + 1)) == NULL)
		return OTG_ERR_NOMEM;
	memcpy(line, password, used);
	line[used] = '\n';
	r = vault_store(dir, name, ".password", ".key", line, used + 1, why, whysz);
	vault_free_secret(line, used + 1);
	return r;
}
