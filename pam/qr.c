/*
 * qr.c: a QR code drawn with terminal characters, for enrolling a TOTP secret
 * from an authenticator app: by `otgate user enroll` on the admin's terminal
 * and by the broker inside a keyboard-interactive prompt at a vendor's first
 * login. Two rows of modules per line with the half-block characters, light
 * modules drawn (as `qrencode -t UTF8` does), for the usual light-on-dark
 * terminal. Uses libqrencode, so pam_otgate.so (which never draws one) leaves
 * this file out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "common/common.h"
#include "pam/pam.h"

#define QR_QUIET 2	/* light modules around the symbol, in modules */

/* 1 when the module at x, y (in the symbol plus quiet zone) is light. */
static int
qr_light(const QRcode *qr, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 1;
	return (qr->data[y * qr->width + x] & 1) == 0;
}

int
qr_render(const char *text, struct buf *out)
{
	static const char *const cell[4] = {
		" ",		/* both dark */
		"\u2584",	/* lower light */
		"\u2580",	/* upper light */
		"\u2588",	/* both light */
	};
	QRcode *qr;
	int x, y, size, r = 0;

	/* error correction M: survives a smudged screen photo, still small */
	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL)
		return errno == ERANGE || errno == EINVAL ? OTG_ERR_TOOBIG : OTG_ERR_NOMEM;
	size = qr->width + 2 * QR_QUIET;
	for (y = 0; y < size && r == 0; y += 2) {
		for (x = 0; x < size && r == 0; x++)
			r = buf_puts(out, cell[qr_light(qr, x, y) * 2 +
			    (y + 1 < size ? qr_light(qr, x, y + 1) : 1)]);
		if (r == 0)
			r = buf_putc(out, '\n');
	}
	QRcode_free(qr);
	return r;
}
