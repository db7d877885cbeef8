/* reject.c — reject and ereject (RFC 5429): refuse the message with a
 * reason.  Both cancel the implicit keep; result.c refuses a second one
 * and their combination with vacation or a delivering action.  How the
 * refusal is sent (MDN, DSN or an SMTP reply) is the delivery's job. */
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "sieve/sieve_int.h"

static bool run_reject(sieve_interp *it, const sieve_node *n)
{
	char *reason = sieve_expand(it, n->pos[0]->strs[0]);
	if (!imap_utf8_valid(reason, strlen(reason))) {
		sieve_rt_error(it, "%s: the reason is not UTF-8", n->def->name);
		free(reason);
		return false;
	}
	sieve_action a = {.kind = n->def->cap == CAP_EREJECT ? SIEVE_ACT_EREJECT : SIEVE_ACT_REJECT,
			  .target = reason};
	return sieve_result_add(it, &a);
}

const sieve_def sieve_defs_reject[] = {
	{"reject", CAP_REJECT, false, NULL, "S", false, 0, 0, NULL, run_reject, NULL},
	{"ereject", CAP_EREJECT, false, NULL, "S", false, 0, 0, NULL, run_reject, NULL},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
