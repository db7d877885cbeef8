/* proto.h — the Sendmail milter protocol, version 6, as a pure codec: the
 * packet framing (a 4-byte length in network order, a command byte, data),
 * the commands the MTA sends (SMFIC_*) and the replies a filter sends back
 * (SMFIR_*), the option negotiation (SMFIC_OPTNEG: version, actions,
 * protocol steps, and the macro lists a filter asks for) and the macros
 * (SMFIC_MACRO).  No I/O and no event loop here: milter/client.c owns the
 * connection and the conversation, milter/msgedit.c the message changes.
 *
 * Every packet a filter sends is bounded (MILTER_MAX_PACKET) before any
 * byte of it is kept; a reply whose strings are not NUL-terminated inside
 * the packet, or whose fixed fields are short, is refused with a sentence. */
#ifndef YUBIN_MILTER_PROTO_H
#define YUBIN_MILTER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define MILTER_VERSION 6
/* The most body bytes in one SMFIC_BODY packet (libmilter's MILTER_CHUNK_SIZE). */
#define MILTER_CHUNK 65535
/* The longest packet (command byte and data) we take from a filter: the
 * largest body chunk libmilter sends with SMFIP_MDS_1M, plus room. */
#define MILTER_MAX_PACKET (1024 * 1024 + 1024)

/* Commands, MTA to filter. */
#define SMFIC_ABORT 'A'
#define SMFIC_BODY 'B'
#define SMFIC_CONNECT 'C'
#define SMFIC_MACRO 'D'
#define SMFIC_BODYEOB 'E'
#define SMFIC_HELO 'H'
#define SMFIC_QUIT_NC 'K'
#define SMFIC_HEADER 'L'
#define SMFIC_MAIL 'M'
#define SMFIC_EOH 'N'
#define SMFIC_OPTNEG 'O'
#define SMFIC_QUIT 'Q'
#define SMFIC_RCPT 'R'
#define SMFIC_DATA 'T'
#define SMFIC_UNKNOWN 'U'

/* Replies, filter to MTA. */
#define SMFIR_ADDRCPT '+'
#define SMFIR_DELRCPT '-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_SHUTDOWN '4'
#define SMFIR_ACCEPT 'a'
#define SMFIR_REPLBODY 'b'
#define SMFIR_CONTINUE 'c'
#define SMFIR_DISCARD 'd'
#define SMFIR_CHGFROM 'e'
#define SMFIR_CONN_FAIL 'f'
#define SMFIR_ADDHEADER 'h'
#define SMFIR_INSHEADER 'i'
#define SMFIR_SETSYMLIST 'l'
#define SMFIR_CHGHEADER 'm'
#define SMFIR_PROGRESS 'p'
#define SMFIR_QUARANTINE 'q'
#define SMFIR_REJECT 'r'
#define SMFIR_SKIP 's'
#define SMFIR_TEMPFAIL 't'
#define SMFIR_REPLYCODE 'y'

/* Actions a filter may take at the end of a message (OPTNEG). */
#define SMFIF_ADDHDRS 0x01u
#define SMFIF_CHGBODY 0x02u
#define SMFIF_ADDRCPT 0x04u
#define SMFIF_DELRCPT 0x08u
#define SMFIF_CHGHDRS 0x10u
#define SMFIF_QUARANTINE 0x20u
#define SMFIF_CHGFROM 0x40u
#define SMFIF_ADDRCPT_PAR 0x80u
#define SMFIF_SETSYMLIST 0x100u
/* Every action we carry out. */
#define MILTER_ACTIONS_OFFERED 0x1ffu

/* Protocol steps: what the filter does not want, or answers not at all. */
#define SMFIP_NOCONNECT 0x01u
#define SMFIP_NOHELO 0x02u
#define SMFIP_NOMAIL 0x04u
#define SMFIP_NORCPT 0x08u
#define SMFIP_NOBODY 0x10u
#define SMFIP_NOHDRS 0x20u
#define SMFIP_NOEOH 0x40u
#define SMFIP_NR_HDR 0x80u
#define SMFIP_NOUNKNOWN 0x100u
#define SMFIP_NODATA 0x200u
#define SMFIP_SKIP 0x400u
#define SMFIP_RCPT_REJ 0x800u
#define SMFIP_NR_CONN 0x1000u
#define SMFIP_NR_HELO 0x2000u
#define SMFIP_NR_MAIL 0x4000u
#define SMFIP_NR_RCPT 0x8000u
#define SMFIP_NR_DATA 0x10000u
#define SMFIP_NR_UNKN 0x20000u
#define SMFIP_NR_EOH 0x40000u
#define SMFIP_NR_BODY 0x80000u
#define SMFIP_HDR_LEADSPC 0x100000u
/* Every step flag we honour (we never send rejected recipients, and body
 * chunks stay at MILTER_CHUNK, so RCPT_REJ and the MDS sizes are not
 * offered). */
#define MILTER_PROTO_OFFERED 0x1ff7ffu

/* The stages a filter may ask macros for (SMFIR_SETSYMLIST / OPTNEG). */
typedef enum milter_macro_stage {
	SMFIM_CONNECT, SMFIM_HELO, SMFIM_ENVFROM, SMFIM_ENVRCPT, SMFIM_DATA, SMFIM_EOM, SMFIM_EOH,
	SMFIM_COUNT
} milter_macro_stage;

/* Reading packets: feed bytes as they arrive; a packet comes out whole. */
typedef struct milter_reader {
	unsigned char len_bytes[4];
	size_t have_len;          /* bytes of the length read so far (0..4) */
	uint32_t len;             /* command byte + data */
	buf data;                 /* the command byte and data read so far */
} milter_reader;

typedef enum milter_read_status {
	MILTER_READ_MORE,         /* every byte used; no whole packet yet */
	MILTER_READ_PACKET,       /* a packet is ready (milter_reader_cmd/data) */
	MILTER_READ_TOO_BIG,      /* its length passes MILTER_MAX_PACKET */
	MILTER_READ_EMPTY,        /* length 0: no command byte */
} milter_read_status;

void milter_reader_init(milter_reader *r);
void milter_reader_free(milter_reader *r);
/* Take bytes from data[0, n) until a packet is whole (*used_r: how many
 * were taken).  After MILTER_READ_PACKET the packet stays readable until
 * the next call; errors are final. */
milter_read_status milter_reader_feed(milter_reader *r, const void *data, size_t n, size_t *used_r);
char milter_reader_cmd(const milter_reader *r);
const char *milter_reader_data(const milter_reader *r, size_t *len_r);

/* A filter's reply, parsed.  Pointers point into the packet's data. */
typedef struct milter_reply {
	char cmd;                 /* SMFIR_* or SMFIC_OPTNEG */
	/* OPTNEG */
	uint32_t version, actions, protocol;
	const char *symlist[SMFIM_COUNT]; /* macros asked for, space-separated; NULL: none */
	/* headers (ADDHEADER, INSHEADER, CHGHEADER) */
	uint32_t index;
	const char *name, *value;
	/* ADDRCPT(_PAR), DELRCPT, CHGFROM: the address; args for _PAR / CHGFROM */
	const char *addr, *args;
	/* QUARANTINE: reason; REPLYCODE: the whole reply text ("550 5.7.1 ...") */
	const char *text;
	int code;                 /* REPLYCODE: its code */
	/* REPLBODY */
	const char *body;
	size_t body_len;
} milter_reply;

/* Parse the packet (cmd, data[0, len)) as a filter's reply.  False with
 * a static sentence in *err_r for an unknown command or a malformed one. */
bool milter_reply_parse(char cmd, const char *data, size_t len, milter_reply *r, const char **err_r);

/* Check an SMFIR_REPLYCODE text: one or more lines "ddd[- ]text" (CRLF
 * between lines) with one code, 4xx or 5xx, the same on every line, "-"
 * on every line but the last; an enhanced status, when the first line has
 * one, of the same class.  *code_r is the code. */
bool milter_replycode_valid(const char *text, int *code_r);

/* Writing packets: each appends one whole packet to out (an unbounded
 * buffer; sizes are bounded by the callers: a body chunk is at most
 * MILTER_CHUNK). */
void milter_put(buf *out, char cmd, const void *data, size_t len);
void milter_put_optneg(buf *out, uint32_t actions, uint32_t protocol);
/* family: '4', '6', 'L' (local) or 'U' (unknown); port in host order. */
void milter_put_connect(buf *out, const char *hostname, char family, uint16_t port, const char *addr);
void milter_put_helo(buf *out, const char *helo);
/* MAIL and RCPT: the address in <> then ESMTP arguments, each NUL-ended. */
void milter_put_args(buf *out, char cmd, const char *addr, const char *const *args, size_t n_args);
void milter_put_header(buf *out, const char *name, const char *value);
/* Macros for command cmd: pairs of names and values (n pairs). */
void milter_put_macros(buf *out, char cmd, const char *const *pairs, size_t n);

/* Is macro name (with or without braces, "i", "{auth_authen}") in the
 * space-separated list asked for (NULL list: every macro is wanted)? */
bool milter_macro_wanted(const char *list, const char *name);

#endif
