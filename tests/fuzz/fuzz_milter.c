/* fuzz_milter.c — libFuzzer target for the milter codec and the message
 * changes: any bytes from a filter are framed, parsed as replies and, when
 * they are changes, applied to a message without a crash; the edits stay
 * inside the original and come in ascending order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milter/msgedit.h"
#include "milter/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char msg[] = "Received: by us\nSubject: hi\nX-A: 1\n folded\n\nbody\n";

typedef struct check {
	size_t at;
} check;

static void edit(void *arg, size_t start, size_t end, const char *text, size_t len)
{
	check *c = arg;
	(void)text;
	(void)len;
	if (start < c->at || end < start || end > sizeof(msg) - 1)
		abort();
	c->at = end;
}

static void apply(milter_msg *m, const milter_reply *r)
{
	char *v = r->value ? milter_msg_value(r->value, false) : NULL;
	switch (r->cmd) {
	case SMFIR_ADDHEADER: milter_msg_add(m, r->name, v); break;
	case SMFIR_INSHEADER: milter_msg_insert(m, r->index, r->name, v); break;
	case SMFIR_CHGHEADER: milter_msg_change(m, r->index, r->name, r->value[0] ? v : ""); break;
	case SMFIR_REPLBODY:
		if (!m->body_replaced)
			milter_msg_body_start(m);
		(void)milter_msg_body_add(m, r->body, r->body_len, 1 << 20);
		break;
	default: break;
	}
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	milter_reader rd;
	milter_reader_init(&rd);
	milter_msg m;
	milter_msg_parse(&m, msg, sizeof(msg) - 1);
	size_t at = 0;
	while (at < size) {
		size_t used = 0;
		milter_read_status st = milter_reader_feed(&rd, data + at, size - at, &used);
		at += used;
		if (st != MILTER_READ_PACKET)
			break;
		size_t len;
		const char *d = milter_reader_data(&rd, &len);
		milter_reply r;
		const char *why;
		if (milter_reply_parse(milter_reader_cmd(&rd), d, len, &r, &why))
			apply(&m, &r);
	}
	check c = {0};
	milter_msg_edits(&m, edit, &c);
	milter_msg_free(&m);
	milter_reader_free(&rd);
	return 0;
}
