/*
 * privdrop.c: otgated's privileges (DESIGN.md section 6). Whoever starts it,
 * the process never gains privileges through exec (no-new-privileges), never
 * dumps core and cannot be ptraced by its own uid (secrets live in memory).
 * Started as root it must name the `user` it drops to: it binds, forks its
 * helpers and reads the host key as root, hands the files it created to that
 * user, then gives up root for good and checks that it cannot take it back.
 * Started as anyone else it stays that user.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"

int
privdrop_harden(void)
{
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_NO_NEW_PRIVS)");
		return -1;
	}
	if (setrlimit(RLIMIT_CORE, &none) == -1) {
		log_warn("setrlimit(RLIMIT_CORE)");
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_DUMPABLE)");
		return -1;
	}
	return 0;
}

int
privdrop_lookup(const struct conf *conf, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	*uid = geteuid();
	*gid = getegid();
	if (*uid != 0)
		return 0;
	if (conf->user == NULL) {
		log_warnx("started as root without 'user' in %s: refusing to run as root",
		    conf->path);
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(conf->user)) == NULL) {
		log_warnx("user = %s: no such user", conf->user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_warnx("user = %s: has uid or gid 0, which would not drop root",
		    conf->user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* A file that root created before the drop goes to the user who carries on
 * writing it (audit log on reopen, kept policies on reload, control socket). */
static void
privdrop_own(int dirfd, const char *path, uid_t uid)
{
	struct stat st;

	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == -1 || st.st_uid != 0 ||
	    S_ISLNK(st.st_mode))
		return;
	if (fchownat(dirfd, path, uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("chown %s", path);
}

static void
privdrop_own_tree(const char *dir, uid_t uid)
{
	struct dirent *de;
	DIR *dp;

	privdrop_own(AT_FDCWD, dir, uid);
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] != '.')
			privdrop_own(dirfd(dp), de->d_name, uid);
	}
	closedir(dp);
}

int
privdrop_drop(const struct conf *conf, uid_t uid, gid_t gid)
{
	char policies[4096];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() != 0)
		return 0;
	privdrop_own(AT_FDCWD, conf->audit_log, uid);
	privdrop_own(AT_FDCWD, conf->control, uid);
	if (snprintf(policies, sizeof(policies), "%s/policies", conf->state) <
	    (int)sizeof(policies))
		privdrop_own_tree(policies, uid);
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		log_warn("dropping to user %s", conf->user);
		return -1;
	}
	/* verify: every id is the user's and root cannot be taken back */
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid) {
		log_warnx("user %s: ids did not all change", conf->user);
		return -1;
	}
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1) {
		log_warnx("user %s: root could be regained", conf->user);
		return -1;
	}
	/* a change of ids resets the dumpable flag from fs.suid_dumpable */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_DUMPABLE)");
		return -1;
	}
	log_info("running as user %s (uid %u)", conf->user, (unsigned)uid);
	return 0;
}
