/*
 * recfile.c: where recordings live and how an auditor names one. Recordings are
 * STATE/recordings/YYYY/MM/DD/ID.cast or ID.stream (".part" while open or
 * after a crash) with ID.seal beside them. An auditor may give a path, a full
 * ID, or any unique prefix of at least 8 hex characters.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define RECFILE_MIN_PREFIX 8

static int
recfile_is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

int
recfile_from_path(const char *path, struct recfile *f)
{
	const char *base = strrchr(path, '/');
	const char *ext;
	size_t dirlen;

	memset(f, 0, sizeof(*f));
	base = base != NULL ? base + 1 : path;
	dirlen = (size_t)(base - path);
	if (strlen(base) < REC_ID_LEN + 1 || !recfile_is_hex(base, REC_ID_LEN) ||
	    base[REC_ID_LEN] != '.')
		return OTG_ERR_INVAL;
	ext = base + REC_ID_LEN + 1;
	if (strcmp(ext, "cast") == 0 || strcmp(ext, "cast.part") == 0 ||
	    strcmp(ext, "cast.enc") == 0 || strcmp(ext, "cast.enc.part") == 0)
		f->format = REC_CAST;
	else if (strcmp(ext, "stream") == 0 || strcmp(ext, "stream.part") == 0 ||
	    strcmp(ext, "stream.enc") == 0 || strcmp(ext, "stream.enc.part") == 0)
		f->format = REC_STREAM;
	else
		return OTG_ERR_INVAL;
	f->part = strstr(ext, ".part") != NULL;
	f->encrypted = strstr(ext, ".enc") != NULL;
	memcpy(f->id, base, REC_ID_LEN);
	f->id[REC_ID_LEN] = '\0';
	if (snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path) ||
	    snprintf(f->seal, sizeof(f->seal), "%.*s%s.seal", (int)dirlen, path, f->id) >=
	    (int)sizeof(f->seal))
		return OTG_ERR_TOOBIG;
	return 0;
}

static int
recfile_select_cb(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Walk one level of YYYY/MM/DD, or the files of a day at depth 3. */
static int
recfile_walk_dir(const char *dir, int depth, int (*cb)(void *, const struct recfile *),
    void *arg)
{
	struct dirent **names = NULL;
	struct recfile f;
	char path[4096];
	int i, n, r = 0;

	if ((n = scandir(dir, &names, recfile_select_cb, alphasort)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : OTG_ERR_IO;
	for (i = 0; i < n && r == 0; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >=
		    (int)sizeof(path))
			continue;
		if (depth < 3)
			r = recfile_walk_dir(path, depth + 1, cb, arg);
		else if (recfile_from_path(path, &f) == 0)
			r = cb(arg, &f);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int
recfile_walk(const char *state_dir, int (*cb)(void *arg, const struct recfile *f),
    void *arg)
{
	char dir[4096];

	if (snprintf(dir, sizeof(dir), "%s/recordings", state_dir) >= (int)sizeof(dir))
		return OTG_ERR_TOOBIG;
	return recfile_walk_dir(dir, 0, cb, arg);
}

struct recfile_search {
	const char *prefix;
	size_t len;
	struct recfile found;
	int n;
};

static int
recfile_match_cb(void *arg, const struct recfile *f)
{
	struct recfile_search *s = arg;

	if (strncmp(f->id, s->prefix, s->len) != 0)
		return 0;
	/* ID.cast and an older ID.cast.part are one session: the final name wins */
	if (s->n > 0 && strcmp(s->found.id, f->id) == 0) {
		if (s->found.part)
			s->found = *f;
		return 0;
	}
	s->found = *f;
	s->n++;
	return 0;
}

int
recfile_find(const char *state_dir, const char *what, struct recfile *f)
{
	struct recfile_search s;
	size_t len = strlen(what);
	int r;

	if (strchr(what, '/') != NULL || strchr(what, '.') != NULL)
		return recfile_from_path(what, f);
	if (len < RECFILE_MIN_PREFIX || len > REC_ID_LEN || !recfile_is_hex(what, len))
		return OTG_ERR_INVAL;
	memset(&s, 0, sizeof(s));
	s.prefix = what;
	s.len = len;
	if ((r = recfile_walk(state_dir, recfile_match_cb, &s)) != 0)
		return r;
	if (s.n == 0)
		return OTG_ERR_NOTFOUND;
	if (s.n > 1)
		return OTG_ERR_EXISTS;
	*f = s.found;
	return 0;
}

int
recfile_open(const struct recfile *f, void *key, FILE **out)
{
	FILE *fp;
	int r;

	*out = NULL;
	if (f->encrypted && key == NULL)
		return OTG_ERR_PERM;
	if ((fp = fopen(f->path, "re")) == NULL)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	if (!f->encrypted) {
		*out = fp;
		return 0;
	}
	if ((r = atrest_open(fp, f->id, key, out)) != 0)
		fclose(fp);
	return r;
}
