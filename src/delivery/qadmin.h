/* qadmin.h — the queue operations an administrator asks of the running
 * server, the same whoever asks: the control socket (`yubin queue
 * flush|hold|release|bounce|delete`, cli/control.c) and the dashboard's
 * queue page (web/pg_queue.c).  Each is one call on the loop thread into
 * the outbound scheduler and, for a release, the queue (a message a policy
 * held also waits for its local recipients). */
#ifndef YUBIN_DELIVERY_QADMIN_H
#define YUBIN_DELIVERY_QADMIN_H

#include "delivery/outbound.h"
#include "queue/queue.h"

typedef enum qadmin_op {
	QADMIN_RETRY,    /* try now ("flush <qid>") */
	QADMIN_HOLD,
	QADMIN_RELEASE,
	QADMIN_BOUNCE,   /* return the pending recipients to the sender */
	QADMIN_DELETE,
	QADMIN_OP_COUNT
} qadmin_op;

/* "retry", "hold", "release", "bounce", "delete" and back; the control
 * socket's "flush" is retry.  -1 when unknown. */
int qadmin_op_parse(const char *name);
const char *qadmin_op_name(qadmin_op op);
/* What the message is after the operation: "scheduled now", "held",
 * "released", "returned to the sender", "deleted". */
const char *qadmin_op_done(qadmin_op op);

/* Do op to message qid (a valid queue id).  NULL on success, else a
 * sentence saying why not (static, for the reply). */
const char *qadmin_apply(outbound *ob, queue *q, qadmin_op op, const char *qid);

#endif
