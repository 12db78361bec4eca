/*
 * diag.c: problems found in config and policy files, kept in order and printed
 * as FILE:LINE:COL: error|warning: message. Past DIAG_MAX_ITEMS they are only
 * counted, so a hostile file cannot make the list grow without bound.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

void
diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
diag_vadd(struct diag *d, enum diag_level level, const char *file, unsigned line,
    unsigned col, const char *fmt, va_list ap)
{
	struct diag_item *it, *items;
	char msg[1024];
	size_t cap;

	if (level == DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	if (d->n >= DIAG_MAX_ITEMS) {
		d->ndropped++;
		return;
	}
	if (d->n == d->cap) {
		cap = d->cap ? d->cap * 2 : 8;
		items = realloc(d->items, cap * sizeof(*items));
		if (items == NULL) {
			d->ndropped++;
			return;
		}
		d->items = items;
		d->cap = cap;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	it = &d->items[d->n];
	it->level = level;
	it->file = strdup(file != NULL ? file : "-");
	it->msg = strdup(msg);
	it->line = line;
	it->col = col;
	if (it->file == NULL || it->msg == NULL) {
		free(it->file);
		free(it->msg);
		d->ndropped++;
		return;
	}
	d->n++;
}

void
diag_add(struct diag *d, enum diag_level level, const char *file, unsigned line,
    unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, level, file, line, col, fmt, ap);
	va_end(ap);
}

/* Messages quote text from the files, so they are escaped on the way out. */
void
diag_print(const struct diag *d, FILE *fp)
{
	char file[512], msg[2048];
	size_t i;

	for (i = 0; i < d->n; i++) {
		fprintf(fp, "%s:%u:%u: %s: %s\n",
		    escape_str(file, sizeof(file), d->items[i].file), d->items[i].line,
		    d->items[i].col, d->items[i].level == DIAG_ERROR ? "error" : "warning",
		    escape_str(msg, sizeof(msg), d->items[i].msg));
	}
	if (d->ndropped > 0)
		fprintf(fp, "(%zu more problems not shown)\n", d->ndropped);
}

void
diag_free(struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	free(d->items);
	diag_init(d);
}
