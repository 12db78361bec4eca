/*
 * cmd_asset.c: the admin's verbs for an asset's side of the broker.
 *   otgate asset trust NAME      fetch the asset's host keys and print the
 *                                `hostkey =` lines to pin, with fingerprints
 *   otgate asset credential NAME --key FILE | --password
 *                                store or rotate the vaulted secret
 * Both take the asset from the policy named by otgated.conf. trust connects
 * like the broker would: only to an address inside `egress`, numeric, with
 * libssh's config files ignored; it runs key exchange only, never logs in.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "broker/broker.h"
#include "cli/cmd.h"

#define ASSET_PASSWORD_MAX 1024

/* One connection per family of host key algorithms: a server shows one key per
 * key exchange, and the admin should be able to pin all of them. */
static const char *const asset_hostkey_algos[] = {
	"ssh-ed25519",
	"ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521",
	"rsa-sha2-512,rsa-sha2-256",
};

struct asset_ctx {
	struct conf *conf;
	struct policy *policy;
	const struct policy_asset *asset;
	struct diag diag;
};

static void
asset_ctx_free(struct asset_ctx *ctx)
{
	policy_free(ctx->policy);
	conf_free(ctx->conf);
	diag_free(&ctx->diag);
}

/* otgated.conf, its policy and the named asset; a message and CMD_NO when not. */
static int
asset_ctx_load(struct asset_ctx *ctx, const char *conf_path, const char *name)
{
	char shown[96];

	memset(ctx, 0, sizeof(*ctx));
	diag_init(&ctx->diag);
	if (conf_load(conf_path, &ctx->diag, &ctx->conf) != 0 ||
	    policy_load(ctx->conf->policy, &ctx->diag, &ctx->policy) != 0) {
		diag_print(&ctx->diag, stderr);
		return CMD_NO;
	}
	if ((ctx->asset = policy_asset(ctx->policy, name)) == NULL) {
		fprintf(stderr, "otgate: %s: no such asset in %s\n",
		    escape_str(shown, sizeof(shown), name), ctx->conf->policy);
		return CMD_NO;
	}
	return CMD_OK;
}

/* The asset's address resolved to a numeric one inside egress. */
static int
asset_resolve(const struct asset_ctx *ctx, char *numeric, size_t numsz)
{
	const struct policy_asset *a = ctx->asset;
	struct addrinfo hints, *res = NULL, *ai;
	char outside[NI_MAXHOST] = "";
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(a->address, NULL, &hints, &res)) != 0) {
		fprintf(stderr, "otgate: %s: cannot resolve %s: %s\n", a->name, a->address,
		    gai_strerror(r));
		return CMD_NO;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, (socklen_t)numsz, NULL,
		    0, NI_NUMERICHOST) != 0)
			continue;
		if (cidr_list_contains(ctx->conf->egress, ctx->conf->negress, ai->ai_addr)) {
			freeaddrinfo(res);
			return CMD_OK;
		}
		snprintf(outside, sizeof(outside), "%s", numeric);
	}
	freeaddrinfo(res);
	if (outside[0] != '\0' && strcmp(outside, a->address) != 0)
		fprintf(stderr, "otgate: %s: address %s (%s) is outside egress in %s\n",
		    a->name, a->address, outside, ctx->conf->path);
	else
		fprintf(stderr, "otgate: %s: address %s is outside egress in %s\n", a->name,
		    a->address, ctx->conf->path);
	return CMD_NO;
}

/* Key exchange with algos only; the server's key, or NULL with why. */
static ssh_key
asset_fetch_key(const struct asset_ctx *ctx, const char *numeric, const char *algos,
    char *why, size_t whysz)
{
	ssh_session s;
	ssh_key key = NULL;
	unsigned int port = ctx->asset->port;
	long timeout = (long)ctx->conf->connect_timeout;
	int no = 0, quiet = SSH_LOG_NOLOG;

	if ((s = ssh_new()) == NULL) {
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	/* nothing from ~/.ssh or /etc/ssh may change where or how we connect */
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &quiet) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, numeric) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, ctx->asset->login) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, algos) != 0) {
		snprintf(why, whysz, "%s", ssh_get_error(s));
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		snprintf(why, whysz, "%s", ssh_get_error(s));
		goto out;
	}
	if (ssh_get_server_publickey(s, &key) != SSH_OK) {
		snprintf(why, whysz, "%s", ssh_get_error(s));
		key = NULL;
	}
	ssh_disconnect(s);
out:
	ssh_free(s);
	return key;
}

/* "hostkey = TYPE BASE64" and its fingerprint, the line kept in shown; 0, or
 * -1 when it cannot be shown. */
static int
asset_print_key(const struct policy_asset *a, const char *numeric, ssh_key key,
    struct strlist *shown)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *b64 = NULL, *fp = NULL, *line = NULL;
	const char *type = ssh_key_type_to_char(ssh_key_type(key));
	int r = -1;

	if (type == NULL || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK ||
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) == NULL ||
	    asprintf(&line, "%s %s", type, b64) == -1) {
		line = NULL;
		goto out;
	}
	if (shown->n == 0)
		printf("# [asset %s] at %s port %u: check these fingerprints on the "
		    "asset itself\n# (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), "
		    "then paste the hostkey lines into its section.\n",
		    a->name, numeric, (unsigned)a->port);
	printf("# %s %s%s\nhostkey = %s\n", type, fp,
	    strlist_contains(&a->hostkeys, line) ? " (pinned already)" : "", line);
	r = strlist_push(shown, line) == 0 ? 0 : -1;
out:
	free(line);
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_string_free_char(b64);
	return r;
}

static int
asset_trust(int argc, char **argv, const char *conf_path)
{
	struct asset_ctx ctx;
	struct strlist shown = { NULL, 0 };
	char numeric[NI_MAXHOST], why[512], text[512];
	ssh_key key;
	size_t i;
	int status;

	if (argc != 3) {
		fprintf(stderr, "usage: otgate asset trust NAME\n");
		return CMD_USAGE;
	}
	if ((status = asset_ctx_load(&ctx, conf_path, argv[2])) != CMD_OK ||
	    (status = asset_resolve(&ctx, numeric, sizeof(numeric))) != CMD_OK)
		goto out;
	why[0] = '\0';
	for (i = 0; i < sizeof(asset_hostkey_algos) / sizeof(asset_hostkey_algos[0]); i++) {
		key = asset_fetch_key(&ctx, numeric, asset_hostkey_algos[i], why, sizeof(why));
		if (key == NULL)
			continue;
		if (asset_print_key(ctx.asset, numeric, key, &shown) != 0)
			snprintf(why, sizeof(why), "cannot encode its key");
		ssh_key_free(key);
	}
	if (shown.n == 0) {
		fprintf(stderr, "otgate: %s: no host key from %s port %u: %s\n",
		    ctx.asset->name, numeric, (unsigned)ctx.asset->port,
		    escape_str(text, sizeof(text), why));
		status = CMD_NO;
		goto out;
	}
	/* a pinned key the asset no longer shows: replaced, or another machine */
	for (i = 0; i < ctx.asset->hostkeys.n; i++)
		if (!strlist_contains(&shown, ctx.asset->hostkeys.v[i]))
			fprintf(stderr, "otgate: %s: warning: pinned key %.40s... is not "
			    "one the asset shows now\n", ctx.asset->name,
			    ctx.asset->hostkeys.v[i]);
out:
	strlist_free(&shown);
	asset_ctx_free(&ctx);
	return status;
}

static struct termios asset_saved_tty;
static volatile sig_atomic_t asset_tty_changed;

/* Ctrl-C at the password prompt must not leave the terminal without echo. */
static void
asset_restore_tty_cb(int sig)
{
	if (asset_tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &asset_saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from stdin into buf (without its newline), echo off on a tty. */
static int
asset_read_line(const char *prompt, char *buf, size_t bufsz)
{
	struct termios quiet;
	size_t len;
	int tty = isatty(STDIN_FILENO), ok;

	if (tty) {
		if (tcgetattr(STDIN_FILENO, &asset_saved_tty) == -1)
			return -1;
		quiet = asset_saved_tty;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		signal(SIGINT, asset_restore_tty_cb);
		signal(SIGTERM, asset_restore_tty_cb);
		signal(SIGTSTP, asset_restore_tty_cb);
		asset_tty_changed = 1;
		/* echo off before the prompt: what is typed once it shows is kept */
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == -1)
			return -1;
		fprintf(stderr, "%s", prompt);
	}
	ok = fgets(buf, (int)bufsz, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &asset_saved_tty);
		asset_tty_changed = 0;
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGTSTP, SIG_DFL);
		fputc('\n', stderr);
	}
	if (!ok)
		return -1;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (len == bufsz - 1)
		return -2;	/* longer than the buffer */
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return 0;
}

/* The new password: twice on a terminal, once from a pipe. */
static int
asset_read_password(const struct policy_asset *a, char *pw, size_t pwsz)
{
	char prompt[160], again[ASSET_PASSWORD_MAX + 2];
	int r, same;

	snprintf(prompt, sizeof(prompt), "Password for %s (login %s): ", a->name, a->login);
	if ((r = asset_read_line(prompt, pw, pwsz)) != 0) {
		fprintf(stderr, r == -2 ? "otgate: the password is too long\n" :
		    "otgate: no password read\n");
		return CMD_NO;
	}
	if (!isatty(STDIN_FILENO))
		return CMD_OK;
	if (asset_read_line("Again: ", again, sizeof(again)) != 0) {
		explicit_bzero(again, sizeof(again));
		fprintf(stderr, "otgate: no password read\n");
		return CMD_NO;
	}
	same = strcmp(pw, again) == 0;
	explicit_bzero(again, sizeof(again));
	if (!same) {
		fprintf(stderr, "otgate: the passwords differ; nothing stored\n");
		return CMD_NO;
	}
	return CMD_OK;
}

/* The public half of the key just stored, for the asset's authorized_keys. */
static void
asset_print_pubkey(const struct asset_ctx *ctx, const char *entry)
{
	struct vault_secret secret;
	char why[512], *b64 = NULL;

	if (vault_load(ctx->conf->vault, entry, &secret, why, sizeof(why)) != 0) {
		fprintf(stderr, "otgate: warning: the broker could not read it back: %s\n", why);
		return;
	}
	if (secret.key != NULL && ssh_pki_export_pubkey_base64(secret.key, &b64) == SSH_OK)
		printf("install in ~%s/.ssh/authorized_keys on the asset:\n%s %s otgate\n",
		    ctx->asset->login, ssh_key_type_to_char(ssh_key_type(secret.key)), b64);
	ssh_string_free_char(b64);
	vault_secret_clear(&secret);
}

static int
asset_credential(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "password", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct asset_ctx ctx;
	const char *keyfile = NULL, *entry;
	char pw[ASSET_PASSWORD_MAX + 2], why[512];
	int ch, password = 0, status;

	/* scan from NAME on; optind 0 resets getopt, whose ordering mode would
	 * otherwise stay the one main()'s "+f:" chose */
	argc--;
	argv++;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			keyfile = optarg;
			break;
		case 'p':
			password = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || (keyfile != NULL) == password)
		goto usage;
	if ((status = asset_ctx_load(&ctx, conf_path, argv[optind])) != CMD_OK)
		goto out;
	entry = ctx.asset->credential != NULL ? ctx.asset->credential : ctx.asset->name;
	if (password) {
		if ((status = asset_read_password(ctx.asset, pw, sizeof(pw))) != CMD_OK)
			goto out;
		if (vault_store_password(ctx.conf->vault, entry, pw, why, sizeof(why)) != 0) {
			fprintf(stderr, "otgate: %s: %s\n", ctx.asset->name, why);
			status = CMD_NO;
			goto out;
		}
		printf("stored the password of %s in %s/%s.password\n", ctx.asset->name,
		    ctx.conf->vault, entry);
	} else {
		if (vault_store_key(ctx.conf->vault, entry, keyfile, why, sizeof(why)) != 0) {
			fprintf(stderr, "otgate: %s: %s\n", ctx.asset->name, why);
			status = CMD_NO;
			goto out;
		}
		printf("stored the key of %s in %s/%s.key\n", ctx.asset->name,
		    ctx.conf->vault, entry);
		asset_print_pubkey(&ctx, entry);
	}
	status = CMD_OK;
out:
	explicit_bzero(pw, sizeof(pw));
	asset_ctx_free(&ctx);
	return status;
usage:
	fprintf(stderr, "usage: otgate asset credential NAME --key FILE | --password\n");
	return CMD_USAGE;
}

int
cmd_asset_main(int argc, char **argv, const char *conf_path)
{
	if (argc >= 2 && strcmp(argv[1], "trust") == 0)
		return asset_trust(argc, argv, conf_path);
	if (argc >= 2 && strcmp(argv[1], "credential") == 0)
		return asset_credential(argc, argv, conf_path);
	fprintf(stderr, "usage: otgate asset trust NAME\n"
	    "       otgate asset credential NAME --key FILE | --password\n");
	return CMD_USAGE;
}
