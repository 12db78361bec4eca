/* test_vault.c: asset credentials: keys and passwords stored, rotated, loaded,
 * and refused when loose, misnamed, ambiguous or unusable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/broker.h"

static char top[64], vault[96], keyfile[96], enckey[96];

static void
path_of(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%s/%s", vault, name);
}

static int
setup(void **state)
{
	ssh_key key = NULL;

	(void)state;
	snprintf(top, sizeof(top), "/tmp/test_vault.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	/* a folder the store has to create */
	snprintf(vault, sizeof(vault), "%s/etc/vault", top);
	snprintf(keyfile, sizeof(keyfile), "%s/id_ed25519", top);
	snprintf(enckey, sizeof(enckey), "%s/id_encrypted", top);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_file(key, NULL, NULL, NULL, keyfile) != SSH_OK ||
	    ssh_pki_export_privkey_file(key, "passphrase", NULL, NULL, enckey) != SSH_OK)
		return -1;
	*state = key;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	ssh_key_free(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void
expect_mode(const char *name, mode_t mode)
{
	char path[160];
	struct stat st;

	path_of(path, sizeof(path), name);
	if (strcmp(name, ".") == 0)
		snprintf(path, sizeof(path), "%s", vault);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static void
expect_absent(const char *name)
{
	char path[160];

	path_of(path, sizeof(path), name);
	assert_int_equal(access(path, F_OK), -1);
}

static void
expect_load_fails(const char *name, int err, const char *needle)
{
	struct vault_secret s;
	char why[256];

	assert_int_equal(vault_load(vault, name, &s, why, sizeof(why)), err);
	if (strstr(why, needle) == NULL)
		fail_msg("reason '%s' lacks '%s'", why, needle);
	assert_null(s.key);
	assert_null(s.password);
}

static void
test_key_then_password_rotation(void **state)
{
	struct vault_secret s;
	char why[256], path[160], *text;
	size_t len;
	mode_t old;

	old = umask(0);	/* modes must not depend on the umask */
	assert_int_equal(vault_store_key(vault, "plc-line3", keyfile, why, sizeof(why)), 0);
	umask(old);
	expect_mode(".", 0700);
	expect_mode("plc-line3.key", 0600);
	assert_int_equal(vault_load(vault, "plc-line3", &s, why, sizeof(why)), 0);
	assert_non_null(s.key);
	assert_null(s.password);
	assert_int_equal(ssh_key_cmp(s.key, *state, SSH_KEY_CMP_PRIVATE), 0);
	vault_secret_clear(&s);
	assert_null(s.key);

	/* rotate to a password: the key goes, exactly one secret remains */
	assert_int_equal(vault_store_password(vault, "plc-line3", "s3cr\xc3\xa9t pw",
	    why, sizeof(why)), 0);
	expect_mode("plc-line3.password", 0600);
	expect_absent("plc-line3.key");
	path_of(path, sizeof(path), "plc-line3.password");
	assert_int_equal(file_read(path, 4096, &text, &len), 0);
	assert_string_equal(text, "s3cr\xc3\xa9t pw\n");
	free(text);
	assert_int_equal(vault_load(vault, "plc-line3", &s, why, sizeof(why)), 0);
	assert_null(s.key);
	assert_string_equal(s.password, "s3cr\xc3\xa9t pw");
	vault_secret_clear(&s);
	assert_null(s.password);

	/* rotate the password, then back to a key */
	assert_int_equal(vault_store_password(vault, "plc-line3", "second\n", why,
	    sizeof(why)), 0);
	assert_int_equal(vault_load(vault, "plc-line3", &s, why, sizeof(why)), 0);
	assert_string_equal(s.password, "second");
	vault_secret_clear(&s);
	assert_int_equal(vault_store_key(vault, "plc-line3", keyfile, why, sizeof(why)), 0);
	expect_absent("plc-line3.password");
	assert_int_equal(vault_load(vault, "plc-line3", &s, why, sizeof(why)), 0);
	assert_non_null(s.key);
	vault_secret_clear(&s);
}

static void
test_loose_modes_refused(void **state)
{
	char why[256], path[160];

	(void)state;
	assert_int_equal(vault_store_password(vault, "hmi-2", "pw", why, sizeof(why)), 0);
	path_of(path, sizeof(path), "hmi-2.password");
	assert_int_equal(chmod(path, 0640), 0);
	expect_load_fails("hmi-2", OTG_ERR_PERM, "mode 0640 is too open");
	assert_int_equal(chmod(path, 0604), 0);
	expect_load_fails("hmi-2", OTG_ERR_PERM, "too open");
	assert_int_equal(chmod(path, 0600), 0);

	/* the folder too, for load and store alike */
	assert_int_equal(chmod(vault, 0750), 0);
	expect_load_fails("hmi-2", OTG_ERR_PERM, "mode 0750 is too open (want 0700)");
	assert_int_equal(vault_store_password(vault, "hmi-2", "pw", why, sizeof(why)),
	    OTG_ERR_PERM);
	assert_int_equal(chmod(vault, 0700), 0);

	/* a link in place of an entry is not followed */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(keyfile, path), 0);
	expect_load_fails("hmi-2", OTG_ERR_IO, "hmi-2");
}

static void
test_names_and_missing(void **state)
{
	struct vault_secret s;
	char why[256], big[80];

	(void)state;
	assert_int_equal(vault_store_password(vault, "ok", "pw", why, sizeof(why)), 0);
	expect_load_fails("../etc/passwd", OTG_ERR_INVAL, "bad vault entry name");
	expect_load_fails("a/b", OTG_ERR_INVAL, "bad vault entry name");
	expect_load_fails("", OTG_ERR_INVAL, "bad vault entry name");
	expect_load_fails(".hidden", OTG_ERR_INVAL, "bad vault entry name");
	expect_load_fails("evil\x1b[2J", OTG_ERR_INVAL, "evil\\x1b[2J");
	memset(big, 'a', 65);
	big[65] = '\0';
	expect_load_fails(big, OTG_ERR_INVAL, "bad vault entry name");
	assert_int_equal(vault_store_password(vault, "../x", "pw", why, sizeof(why)),
	    OTG_ERR_INVAL);
	assert_int_equal(vault_store_key(vault, "a/b", keyfile, why, sizeof(why)),
	    OTG_ERR_INVAL);
	expect_load_fails("nobody", OTG_ERR_NOTFOUND, "no vault entry nobody");
	assert_int_equal(vault_load(vault, "ok", &s, why, sizeof(why)), 0);
	vault_secret_clear(&s);
}

static void
test_unusable_secrets_refused(void **state)
{
	char why[256], path[160], other[160];
	FILE *fp;

	(void)state;
	assert_int_equal(vault_store_key(vault, "plc", enckey, why, sizeof(why)),
	    OTG_ERR_PROTO);
	assert_non_null(strstr(why, "not an unencrypted OpenSSH private key"));
	expect_absent("plc.key");
	assert_int_equal(vault_store_key(vault, "plc", "/nonexistent/key", why,
	    sizeof(why)), OTG_ERR_IO);
	assert_int_equal(vault_store_password(vault, "plc", "", why, sizeof(why)),
	    OTG_ERR_INVAL);
	assert_int_equal(vault_store_password(vault, "plc", "two\nlines", why,
	    sizeof(why)), OTG_ERR_INVAL);
	assert_non_null(strstr(why, "one line"));

	/* a key file that is not a key, placed by hand */
	assert_int_equal(vault_store_password(vault, "plc", "pw", why, sizeof(why)), 0);
	path_of(path, sizeof(path), "plc.password");
	path_of(other, sizeof(other), "plc.key");
	assert_int_equal(rename(path, other), 0);
	expect_load_fails("plc", OTG_ERR_PROTO, "not an unencrypted");

	/* both kinds present: ambiguous, refused */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("pw\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	expect_load_fails("plc", OTG_ERR_EXISTS, "both a .key and a .password");
	assert_int_equal(unlink(other), 0);

	/* an empty password file */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	expect_load_fails("plc", OTG_ERR_INVAL, "empty");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_then_password_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_loose_modes_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_secrets_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
