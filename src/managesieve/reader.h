/* reader.h — assembling one ManageSieve command (or SASL response) from the
 * connection's input: CRLF-terminated lines through net/conn.c's line
 * reader, and the literals they announce ({n+}, and {n} from old clients:
 * no continuation is sent, the octets are simply read), until a line ends
 * without one.  Everything is bounded: each line by line_max, each literal
 * by literal_max, the whole command by both.  A literal past literal_max
 * but within MSIEVE_SKIP_MAX is read and thrown away so that the session
 * can answer NO and go on; past that the connection cannot be saved.
 * What the command means is parse.c's and commands.c's business. */
#ifndef YUBIN_MANAGESIEVE_READER_H
#define YUBIN_MANAGESIEVE_READER_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "net/conn.h"

/* The largest literal that is read and dropped rather than fatal. */
#define MSIEVE_SKIP_MAX ((uint64_t)64 * 1024 * 1024)

typedef struct msieve_reader {
	buf cmd;               /* lines (with their CRLF) and literal octets so far */
	size_t line_max;       /* one line, CRLF included */
	size_t literal_max;    /* one literal */
	uint64_t literal_left; /* octets still to come of the literal being read */
	bool skipping;         /* that literal is too large: dropped as it comes */
	bool refused;          /* the command held a literal too large */
	uint64_t refused_size; /* ... of this many octets */
} msieve_reader;

typedef enum msieve_read {
	MSIEVE_READ_MORE,      /* more input needed */
	MSIEVE_READ_COMMAND,   /* a whole command: msieve_reader_command */
	MSIEVE_READ_REFUSED,   /* a whole command with a literal past literal_max (refused_size) */
	MSIEVE_READ_BAD_LINE,  /* a line with a bare CR or LF, or a NUL: dropped */
	MSIEVE_READ_TOO_LONG,  /* a line or the command past its bound: close */
	MSIEVE_READ_HUGE,      /* a literal past MSIEVE_SKIP_MAX or 2^32-1: close */
} msieve_read;

void msieve_reader_init(msieve_reader *r, size_t line_max, size_t literal_max);
/* New bounds from the next command on (after login). */
void msieve_reader_set_limits(msieve_reader *r, size_t line_max, size_t literal_max);
void msieve_reader_free(msieve_reader *r);
/* Read from in what is there.  After COMMAND, REFUSED or BAD_LINE the
 * caller handles it and calls msieve_reader_reset. */
msieve_read msieve_reader_feed(msieve_reader *r, conn *c, struct evbuffer *in);
/* The command read, without its final CRLF (writable: parse.c unescapes in
 * place); *len_r its length. */
char *msieve_reader_command(msieve_reader *r, size_t *len_r);
/* Forget the command (wiping it: it may have held a password). */
void msieve_reader_reset(msieve_reader *r);

#endif
