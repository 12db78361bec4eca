/* screen_fuzz.c: whatever an asset prints, split however, into a screen of
 * any size (a resize makes a new model: watch.c): libvterm and the renderer
 * hold, and the redraw a watcher gets is
 * only text and the few sequences screen_render writes (cursor position,
 * SGR, clear, cursor visibility), so the watcher's filter (neutralise.c)
 * passes it unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "recorder/recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_redraw(const uint8_t *p, size_t n)
{
	struct neutralise nz;
	struct buf out;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 && p[i] != 0x1b)
			abort();	/* no C0 control but ESC */
		if (p[i] >= 0x80 && p[i] <= 0x9f && i > 0 && p[i - 1] == 0xc2)
			abort();	/* no C1 as UTF-8 */
		if (p[i] != 0x1b)
			continue;
		if (i + 1 >= n || p[i + 1] != '[')
			abort();
		for (j = i + 2; j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == ';' ||
		    p[j] == '?'); j++)
			;
		if (j >= n || strchr("HJmhl", p[j]) == NULL)
			abort();
	}
	neutralise_init(&nz);
	buf_init(&out, BUF_DEFAULT_MAX);
	if (neutralise_feed(&nz, &out, p, n) != 0 || buf_len(&out) != n ||
	    memcmp(buf_ptr(&out), p, n) != 0)
		abort();
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct screen *sc;
	struct buf out;
	size_t off = 3, n, step;

	if (size < 3)
		return 0;
	step = (size_t)data[2] % 17 + 1;
	if (screen_new(data[0] % 64, data[1], &sc) != 0)
		return 0;
	while (off < size) {
		n = size - off < step ? size - off : step;
		screen_feed(sc, data + off, n);
		off += n;
	}
	buf_init(&out, BUF_DEFAULT_MAX);
	if (screen_render(sc, &out) != 0)
		abort();
	check_redraw(buf_ptr(&out), buf_len(&out));
	buf_free(&out);
	screen_free(sc);
	return 0;
}
