/* qadmin.c — the administrator's queue operations (see qadmin.h).  Owns
 * which scheduler and queue calls each operation is; must not know who
 * asked (socket, web page) or how the answer is worded to them. */
#include "delivery/qadmin.h"

#include <string.h>

static const struct {
	const char *name, *done;
} ops[QADMIN_OP_COUNT] = {
	[QADMIN_RETRY] = {"retry", "scheduled now"},
	[QADMIN_HOLD] = {"hold", "held"},
	[QADMIN_RELEASE] = {"release", "released"},
	[QADMIN_BOUNCE] = {"bounce", "returned to the sender"},
	[QADMIN_DELETE] = {"delete", "deleted"},
};

int qadmin_op_parse(const char *name)
{
	if (strcmp(name, "flush") == 0)
		return QADMIN_RETRY;
	for (int i = 0; i < QADMIN_OP_COUNT; i++)
		if (strcmp(name, ops[i].name) == 0)
			return i;
	return -1;
}

const char *qadmin_op_name(qadmin_op op)
{
	return ops[op].name;
}

const char *qadmin_op_done(qadmin_op op)
{
	return ops[op].done;
}

const char *qadmin_apply(outbound *ob, queue *q, qadmin_op op, const char *qid)
{
	const char *why = NULL;
	switch (op) {
	case QADMIN_RETRY:
		return outbound_flush(ob, qid) > 0 ? NULL : "it is not waiting for a retry";
	case QADMIN_HOLD:
		/* a message the scheduler has no entry for just now (only local
		 * recipients, or between two of its steps) is held in its file:
		 * whoever reads it next obeys */
		why = outbound_hold(ob, qid, true);
		return why == NULL || queue_hold(q, qid) == NULL ? NULL : why;
	case QADMIN_RELEASE:
		why = outbound_hold(ob, qid, false);
		/* a message a policy held waits for its local recipients too: the
		 * queue's release is enough when it has no remote ones */
		return queue_release(q, qid) == NULL ? NULL : why;
	case QADMIN_BOUNCE:
		return outbound_bounce(ob, qid);
	case QADMIN_DELETE:
		return outbound_delete(ob, qid);
	case QADMIN_OP_COUNT:
		break;
	}
	return "unknown operation";
}
