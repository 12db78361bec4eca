/*
 * decide.c: the access decision, exactly as DESIGN.md section 3 states it.
 * A user may open a channel of a kind on an asset at a time if some role of
 * theirs selects the asset, allows the kind and is inside one of its windows,
 * and no role of theirs denies the asset. Pure: the policy holds everything,
 * zones included, so the same question always gets the same answer.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static const char *const decide_channel_names[POLICY_NCHANNELS] = {
	"shell", "exec", "sftp", "forward"
};

const char *
policy_channel_name(enum policy_channel kind)
{
	return (unsigned)kind < POLICY_NCHANNELS ? decide_channel_names[kind] : "?";
}

int
policy_channel_parse(const char *s, enum policy_channel *out)
{
	unsigned i;

	for (i = 0; i < POLICY_NCHANNELS; i++) {
		if (strcmp(s, decide_channel_names[i]) == 0) {
			*out = (enum policy_channel)i;
			return 0;
		}
	}
	return OTG_ERR_INVAL;
}

const char *
policy_verdict_name(enum policy_verdict v)
{
	switch (v) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_NEEDS_APPROVAL:
		return "needs-approval";
	default:
		return "deny";
	}
}

static int
decide_selector_matches(const char *sel, const struct policy_asset *a)
{
	if (strcmp(sel, "*") == 0)
		return 1;
	if (strchr(sel, ':') != NULL)
		return strlist_contains(&a->tags, sel);
	return strcmp(sel, a->name) == 0;
}

/* The first selector of list that matches a, or NULL. */
static const char *
decide_match(const struct strlist *list, const struct policy_asset *a)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (decide_selector_matches(list->v[i], a))
			return list->v[i];
	return NULL;
}

static int
decide_in_windows(const struct policy_role *r, time_t now)
{
	size_t i;

	if (r->window_names.n == 0)
		return 1;
	for (i = 0; i < r->window_names.n; i++)
		if (window_contains(r->windows[i], now))
			return 1;
	return 0;
}

/* "outside window NAME (DESC)", or the list of them for several. */
static void
decide_outside(const struct policy_role *r, char *out, size_t outsz)
{
	char desc[96];
	size_t i, used;
	int n;

	n = snprintf(out, outsz, "outside window%s ", r->window_names.n > 1 ? "s" : "");
	used = n > 0 ? (size_t)n : 0;
	for (i = 0; i < r->window_names.n && used < outsz; i++) {
		window_describe(r->windows[i], desc, sizeof(desc));
		n = snprintf(out + used, outsz - used, "%s%s (%s)", i ? ", " : "",
		    r->window_names.v[i], desc);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* 0 means no limit, which is larger than any limit. */
static uint64_t
decide_larger(uint64_t a, uint64_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > b ? a : b;
}

int
policy_decide(const struct policy *p, const char *user, const char *asset,
    enum policy_channel kind, time_t now, struct policy_decision *out)
{
	const struct policy_user_def *u;
	const struct policy_asset *a;
	const struct policy_role *r, *outside = NULL, *granted = NULL;
	const struct policy_role *approver = NULL;
	const char *sel;
	int selects = 0, first = 1;
	size_t i;

	if (p == NULL || user == NULL || asset == NULL || out == NULL ||
	    (unsigned)kind >= POLICY_NCHANNELS)
		return OTG_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	out->verdict = POLICY_DENY;
	if ((u = policy_user_def(p, user)) == NULL) {
		snprintf(out->reason, sizeof(out->reason), "unknown user");
		return 0;
	}
	if (u->user.disabled) {
		snprintf(out->reason, sizeof(out->reason), "user %s is disabled",
		    u->user.name);
		return 0;
	}
	if (u->user.expires != 0 && now >= u->user.expires) {
		snprintf(out->reason, sizeof(out->reason), "user %s expired %s",
		    u->user.name, u->expires_date);
		return 0;
	}
	if ((a = policy_asset(p, asset)) == NULL) {
		snprintf(out->reason, sizeof(out->reason), "unknown asset");
		return 0;
	}
	/* deny beats allow, whatever the channel or the time */
	for (i = 0; i < u->user.roles.n; i++) {
		r = u->roles[i];
		if ((sel = decide_match(&r->deny, a)) != NULL) {
			out->role = r->name;
			snprintf(out->reason, sizeof(out->reason), "denied by role %s: "
			    "deny %s", r->name, sel);
			return 0;
		}
	}
	for (i = 0; i < u->user.roles.n; i++) {
		r = u->roles[i];
		if (decide_match(&r->assets, a) == NULL)
			continue;
		selects = 1;
		if (!(r->allow & (1u << kind)))
			continue;
		if (!decide_in_windows(r, now)) {
			if (outside == NULL)
				outside = r;
			continue;
		}
		if (r->approval) {
			if (approver == NULL)
				approver = r;
		} else if (granted == NULL) {
			granted = r;
		}
		out->max_session = first ? r->max_session :
		    decide_larger(out->max_session, r->max_session);
		out->idle_timeout = first ? r->idle_timeout :
		    decide_larger(out->idle_timeout, r->idle_timeout);
		out->reason_required |= r->reason;
		first = 0;
	}
	if (granted != NULL) {
		out->verdict = POLICY_ALLOW;
		out->role = granted->name;
		snprintf(out->reason, sizeof(out->reason), "allowed by role %s",
		    granted->name);
	} else if (approver != NULL) {
		out->verdict = POLICY_NEEDS_APPROVAL;
		out->role = approver->name;
		snprintf(out->reason, sizeof(out->reason), "role %s requires approval",
		    approver->name);
	} else if (outside != NULL) {
		out->role = outside->name;
		decide_outside(outside, out->reason, sizeof(out->reason));
	} else if (selects) {
		snprintf(out->reason, sizeof(out->reason), "no role of %s allows %s on %s",
		    u->user.name, decide_channel_names[kind], a->name);
	} else {
		snprintf(out->reason, sizeof(out->reason), "no role of %s selects %s",
		    u->user.name, a->name);
	}
	return 0;
}

int
policy_assets_for(const struct policy *p, const char *user, time_t now,
    struct policy_menu_entry **out, size_t *n)
{
	const struct policy_user_def *u;
	struct policy_menu_entry *v = NULL;
	const struct policy_asset *a;
	size_t i, j, count = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (p == NULL || user == NULL)
		return OTG_ERR_INVAL;
	if ((u = policy_user_def(p, user)) == NULL)
		return 0;
	for (i = 0; i < p->nassets; i++) {
		a = &p->assets[i].asset;
		for (j = 0; j < u->user.roles.n; j++)
			if (decide_match(&u->roles[j]->assets, a) != NULL)
				break;
		if (j == u->user.roles.n)
			continue;
		if (v == NULL && (v = calloc(p->nassets, sizeof(*v))) == NULL)
			return OTG_ERR_NOMEM;
		v[count].asset = a;
		if ((r = policy_decide(p, user, a->name, POLICY_SHELL, now,
		    &v[count].decision)) != 0) {
			free(v);
			return r;
		}
		count++;
	}
	*out = v;
	*n = count;
	return 0;
}
