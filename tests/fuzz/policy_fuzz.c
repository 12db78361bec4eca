/* policy_fuzz.c: a policy file is typed by hand and copied between plants;
 * any bytes must give a policy or clean errors, never a crash, leak or hang.
 * A policy that loads is also decided on, menu-listed and dumped, and its
 * dump must load again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise(const struct policy *p)
{
	struct policy_menu_entry *menu;
	struct policy_decision dec;
	struct policy *again = NULL;
	struct diag d;
	size_t i, j, n;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	/* a few instants: the epoch, a DST switch in Europe, a far future */
	static const time_t when[] = { 0, 1774746000, 4102444800 };

	for (i = 0; i < p->nusers && i < 8; i++) {
		for (j = 0; j < p->nassets && j < 8; j++)
			policy_decide(p, p->users[i].user.name, p->assets[j].asset.name,
			    (enum policy_channel)((i + j) % POLICY_NCHANNELS),
			    when[(i + j) % 3], &dec);
		if (policy_assets_for(p, p->users[i].user.name, when[i % 3], &menu, &n) == 0)
			free(menu);
	}
	if ((fp = open_memstream(&text, &len)) == NULL)
		return;
	policy_dump(p, fp);
	fclose(fp);
	diag_init(&d);
	/* the canonical form of a good policy is itself a good policy */
	if (policy_load_buffer("dump", text, len, &d, &again) != 0)
		abort();
	policy_free(again);
	diag_free(&d);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct diag d;

	diag_init(&d);
	if (policy_load_buffer("fuzz.conf", (const char *)data, size, &d, &p) == 0)
		exercise(p);
	policy_free(p);
	diag_free(&d);
	return 0;
}
