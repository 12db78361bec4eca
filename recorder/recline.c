/*
 * recline.c: reading a recording or seal file line by line without trusting
 * it. A line longer than REC_MAX_LINE is an error rather than an allocation,
 * so a planted 100 MB line costs a bounded buffer and a clean message.
 */
#include <stdio.h>

#include "common/common.h"
#include "recorder/recorder.h"

void
recline_init(struct recline *rl, FILE *fp)
{
	rl->fp = fp;
	rl->n = 0;
	buf_init(&rl->line, REC_MAX_LINE + 1);
}

int
recline_next(struct recline *rl, const char **line, size_t *len, int *complete)
{
	int c, r;

	buf_reset(&rl->line);
	*complete = 0;
	while ((c = getc_unlocked(rl->fp)) != EOF) {
		if (c == '\n') {
			*complete = 1;
			break;
		}
		if (buf_len(&rl->line) >= REC_MAX_LINE)
			return OTG_ERR_TOOBIG;
		if ((r = buf_putc(&rl->line, c)) != 0)
			return r;
	}
	if (ferror(rl->fp))
		return OTG_ERR_IO;
	if (c == EOF && buf_len(&rl->line) == 0)
		return 1;
	/* room was kept for the terminator */
	if ((r = buf_putc(&rl->line, '\0')) != 0)
		return r;
	rl->line.len--;
	rl->n++;
	*line = (const char *)buf_ptr(&rl->line);
	*len = buf_len(&rl->line);
	return 0;
}

void
recline_free(struct recline *rl)
{
	buf_free(&rl->line);
}
