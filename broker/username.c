/*
 * username.c: the SSH user name a vendor types carries the asset too:
 * "alice+plc-line3" (works with ssh, scp, sftp, rsync, WinSCP), "alice:plc-line3"
 * (ssh only), or plain "alice" for the menu. The name arrives before any
 * authentication, so it is hostile input: bounded, checked byte by byte, and
 * echoed back only escaped.
 */
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"

#define USERNAME_STR_(x) #x
#define USERNAME_STR(x) USERNAME_STR_(x)

/* "user name 'IN' PROBLEM", IN escaped and cut short; without IN, "user name PROBLEM" */
static int
username_fail(char *why, size_t whysz, const char *in, const char *problem)
{
	char shown[96];

	if (why == NULL || whysz == 0)
		return OTG_ERR_INVAL;
	if (in != NULL)
		snprintf(why, whysz, "user name '%s' %s",
		    escape_str(shown, sizeof(shown), in), problem);
	else
		snprintf(why, whysz, "user name %s", problem);
	return OTG_ERR_INVAL;
}

int
username_parse(const char *in, char *user, size_t usersz, char *asset,
    size_t assetsz, char *why, size_t whysz)
{
	const char *sep = NULL, *p;
	size_t len, ulen, alen;

	if (usersz > 0)
		user[0] = '\0';
	if (assetsz > 0)
		asset[0] = '\0';
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (in == NULL || in[0] == '\0')
		return username_fail(why, whysz, NULL, "is empty");
	/* never scan or echo more than the limit of a giant name */
	len = strnlen(in, USERNAME_MAX + 1);
	if (len > USERNAME_MAX)
		return username_fail(why, whysz, NULL,
		    "is longer than " USERNAME_STR(USERNAME_MAX) " bytes");
	for (p = in; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return username_fail(why, whysz, in,
			    "contains control characters");
		if (*p != '+' && *p != ':')
			continue;
		if (sep != NULL)
			return username_fail(why, whysz, in,
			    "has two separators (use USER+ASSET)");
		sep = p;
	}
	ulen = sep != NULL ? (size_t)(sep - in) : len;
	alen = sep != NULL ? len - ulen - 1 : 0;
	if (ulen == 0)
		return username_fail(why, whysz, in,
		    "has no user before the separator");
	if (sep != NULL && alen == 0)
		return username_fail(why, whysz, in,
		    "has no asset after the separator");
	if (ulen >= usersz || alen >= assetsz)
		return username_fail(why, whysz, in, "is too long");
	memcpy(user, in, ulen);
	user[ulen] = '\0';
	if (sep != NULL) {
		memcpy(asset, sep + 1, alen);
		asset[alen] = '\0';
	}
	if (!value_name_ok(user) || (sep != NULL && !value_name_ok(asset))) {
		user[0] = '\0';
		asset[0] = '\0';
		return username_fail(why, whysz, in,
		    "is not USER, USER+ASSET or USER:ASSET with valid names");
	}
	return 0;
}
