/* seal_fuzz.c: the seal file reader: every line of a hostile ID.seal goes
 * through the line reader and the seal parser, whose checks on numbers, hex
 * and base64 must hold for any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "recorder/recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seal_cert cert;
	struct seal_record rec;
	struct recline lines;
	const char *line;
	size_t len;
	int complete, is_cert;
	FILE *fp;

	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	recline_init(&lines, fp);
	while (recline_next(&lines, &line, &len, &complete) == 0)
		(void)seal_parse_line(line, len, &is_cert, &cert, &rec);
	recline_free(&lines);
	fclose(fp);
	return 0;
}
