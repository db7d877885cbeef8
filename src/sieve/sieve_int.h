/* sieve_int.h — what the files of src/sieve share and nobody else sees:
 * the syntax tree, the tables that describe each command and test (one
 * table per extension file), and the compile and run contexts. */
#ifndef YUBIN_SIEVE_INT_H
#define YUBIN_SIEVE_INT_H
#include <stdarg.h>
#include <stdint.h>
#include "lib/buf.h"
#include "mime/mime.h"
#include "sieve/sieve.h"

/* ---- syntax tree (parser.c) ---- */
typedef enum { SARG_NUMBER, SARG_STRLIST, SARG_TAG } sieve_arg_kind;
typedef struct sieve_arg {
	sieve_arg_kind kind;
	bool is_list;          /* written with [ ] (a string list) */
	unsigned line, col;
	uint64_t num;
	char **strs;           /* SARG_STRLIST: decoded strings */
	unsigned *slines, *scols;  /* ... and where each one starts */
	size_t nstrs;
	char *tag;             /* SARG_TAG: lower-cased, without ':' */
} sieve_arg;

typedef struct sieve_def sieve_def;
typedef struct sieve_node sieve_node;

enum { CMP_OCTET, CMP_CASEMAP, CMP_NUMERIC };
enum { MT_IS, MT_CONTAINS, MT_MATCHES, MT_VALUE, MT_COUNT };
enum { REL_GT, REL_GE, REL_LT, REL_LE, REL_EQ, REL_NE };
enum { AP_ALL, AP_LOCAL, AP_DOMAIN, AP_USER, AP_DETAIL };
enum { BT_TEXT, BT_RAW, BT_CONTENT };
enum { ZONE_LOCAL, ZONE_GIVEN, ZONE_ORIGINAL };

/* The tagged arguments of one command or test, once validated. */
typedef struct sieve_opts {
	int cmp, match, rel, addrpart;
	uint64_t index;        /* 0: no :index */
	bool last;
	int zone_kind;
	sieve_arg *zone;
	int transform;
	sieve_arg *content;
	bool copy, create, mime, once, optional, global, over, under;
	sieve_arg *flags;
	sieve_arg *subject, *from, *addresses, *handle;
	uint64_t days;
	bool days_set;
	unsigned modifiers;    /* variables: bit per modifier */
	sieve_arg *cmp_arg, *rel_arg, *index_arg;  /* for error positions */
	unsigned groups;       /* tag groups already given */
} sieve_opts;

struct sieve_node {
	const sieve_def *def;
	char *name;            /* lower-cased identifier */
	unsigned line, col;
	sieve_arg **args;      /* as written, tags and positionals */
	size_t nargs;
	sieve_arg *pos[4];     /* positional arguments after validation */
	size_t npos;
	sieve_opts o;
	sieve_node **tests;
	size_t ntests;
	bool has_tests;        /* a test or a test list was written */
	bool test_list;        /* ... in parentheses */
	sieve_node **block;
	size_t nblock;
	bool has_block;
	sieve_script *included; /* include: the compiled script (NULL: optional, missing) */
};

struct sieve_script {
	char *name;            /* "" for the main script */
	sieve_node **cmds;
	size_t ncmds;
	unsigned caps;         /* bit per capability required */
	bool global;
};

/* Capabilities, one bit each (validate.c has the names). */
enum {
	CAP_FILEINTO = 1u << 0, CAP_ENVELOPE = 1u << 1, CAP_ENCODED = 1u << 2,
	CAP_COPY = 1u << 3, CAP_MAILBOX = 1u << 4, CAP_REJECT = 1u << 5,
	CAP_EREJECT = 1u << 6, CAP_VACATION = 1u << 7, CAP_IMAP4FLAGS = 1u << 8,
	CAP_VARIABLES = 1u << 9, CAP_BODY = 1u << 10, CAP_RELATIONAL = 1u << 11,
	CAP_SUBADDRESS = 1u << 12, CAP_DATE = 1u << 13, CAP_INDEX = 1u << 14,
	CAP_INCLUDE = 1u << 15, CAP_NUMERIC = 1u << 16,
	CAP_OCTET = 1u << 17, CAP_CASEMAP = 1u << 18,
};

/* ---- lexer.c ---- */
typedef enum {
	TOK_EOF, TOK_IDENT, TOK_TAG, TOK_NUMBER, TOK_STRING,
	TOK_LBRACKET, TOK_RBRACKET, TOK_LPAREN, TOK_RPAREN,
	TOK_LBRACE, TOK_RBRACE, TOK_COMMA, TOK_SEMI, TOK_ERROR,
} sieve_tok_kind;
typedef struct sieve_token {
	sieve_tok_kind kind;
	unsigned line, col;
	char *text;            /* identifier/tag (lower-cased), string value */
	uint64_t num;
} sieve_token;
typedef struct sieve_lexer {
	const char *p, *end;
	unsigned line, col;
	unsigned comment_line; /* where the last bracket comment began */
	char *error;           /* set with TOK_ERROR */
} sieve_lexer;
void sieve_lexer_init(sieve_lexer *lx, const char *text, size_t len);
/* The next token (its text malloc'd, caller frees). */
sieve_token sieve_lex(sieve_lexer *lx);

/* ---- compile context (parser.c, validate.c) ---- */
typedef struct sieve_compiler {
	const sieve_loader *loader;
	sieve_error *err;
	const char *name;      /* script being compiled */
	unsigned caps;
	unsigned depth;        /* include depth */
	strlist *stack;        /* names being compiled, for recursion */
	size_t *includes, *total;  /* shared by the whole compile: bounds */
	size_t nvars;          /* variable names seen by `set` */
	strlist varnames;
	bool seen_vacation, seen_reject; /* unconditional, at the top level */
} sieve_compiler;
/* Record an error (only the first counts); always returns false. */
bool sieve_fail(sieve_compiler *c, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* vasprintf that aborts when out of memory. */
char *sieve_vformat(const char *fmt, va_list ap);
/* Parse a whole script into s->cmds (parser.c). */
bool sieve_parse(sieve_compiler *c, const char *text, size_t len, sieve_script *s);
/* Validate one command or test against its table entry (validate.c). */
bool sieve_validate_node(sieve_compiler *c, sieve_node *n, bool is_test);
void sieve_node_free(sieve_node *n);
/* Compile a script by name for include (include.c). */
bool sieve_compile_named(sieve_compiler *c, const char *name, bool global,
			 const char *text, size_t len, sieve_script **s_r);

/* ---- run context (run.c) ---- */
typedef struct sieve_vars {
	strlist names;         /* lower-cased */
	strlist values;
} sieve_vars;

typedef struct sieve_hdr {
	char *name;            /* as written */
	char *raw;             /* unfolded, trimmed */
	char *decoded;         /* RFC 2047 decoded, lazily */
} sieve_hdr;

typedef struct sieve_interp {
	const sieve_message *msg;
	const sieve_envelope *env;
	const sieve_env *environment;
	sieve_result *res;
	mime_message *mime;    /* parsed lazily (body, header block end) */
	sieve_hdr *hdrs;
	size_t nhdrs;
	bool hdrs_loaded;
	sieve_vars *vars;      /* the running script's own */
	sieve_vars *globals;   /* shared by included scripts (RFC 6609 global) */
	strlist *global_names; /* names this script declared global */
	char *match[10];       /* ${0}..${9} */
	bool variables, imap4flags;  /* capabilities of the running script */
	strlist flags;         /* the imap4flags internal variable */
	strlist once;          /* included :once scripts already run */
	unsigned steps, include_depth, redirects;
	uint64_t work;         /* comparison cost so far (SIEVE_MAX_WORK) */
	bool stopped, returned, failed;
	unsigned cur_line;
} sieve_interp;

/* Raise a runtime error (first one kept); returns -1 for test use. */
int sieve_rt_error(sieve_interp *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One string argument with variables expanded (malloc'd). */
char *sieve_expand(sieve_interp *it, const char *s);
/* A string list argument expanded; caller frees with strlist_free. */
void sieve_expand_list(sieve_interp *it, const sieve_arg *a, strlist *out);
/* Run a command list; false on error or stop/return. */
bool sieve_run_block(sieve_interp *it, sieve_node *const *cmds, size_t n);
/* Evaluate a test: 1 true, 0 false, -1 runtime error. */
int sieve_eval_test(sieve_interp *it, const sieve_node *t);

/* ---- message access (message.c) ---- */
void sieve_msg_headers(sieve_interp *it);
const char *sieve_hdr_decoded(sieve_hdr *h);
mime_message *sieve_msg_mime(sieve_interp *it);
/* The values of the named fields in order (decoded or raw) into out. */
void sieve_msg_header_values(sieve_interp *it, const char *name, bool decoded, strlist *out);

/* ---- compare.c ---- */
/* Compare one value against one key with cmp and match (not MT_COUNT);
 * with captures (non-NULL) a successful :matches fills 10 malloc'd slots. */
bool sieve_match(int cmp, int match, int rel, const char *value, const char *key,
		 char **captures);
/* Match a list of values against keys (OR), :count included; sets the
 * match variables from the first successful :matches. */
bool sieve_match_values(sieve_interp *it, const sieve_opts *o, const strlist *values,
			const strlist *keys);
int sieve_relop_parse(const char *s);   /* -1 when invalid */

/* ---- address.c ---- */
/* The address parts of every address in a header value (unfolded). */
void sieve_address_parts(const char *value, int part, strlist *out);
/* One addr-spec (envelope): its part, or false when it has none. */
bool sieve_addr_part(const char *addr, int part, char **out_r);
/* The addr-spec of s, one RFC 5322 mailbox ("a@b", "Name <a@b>", with
 * comments), malloc'd; NULL when s is not exactly one valid mailbox. */
char *sieve_address_spec(const char *s);
bool sieve_valid_address(const char *s);

/* ---- result.c ---- */
/* Free what an action holds. */
void sieve_action_clear(sieve_action *a);
/* Add an action (takes ownership of target and flags); false on error. */
bool sieve_result_add(sieve_interp *it, sieve_action *a);

/* ---- variables.c / imap4flags.c / encoded.c ---- */
bool sieve_var_name_valid(const char *s, size_t n);
void sieve_var_set(sieve_interp *it, const char *name, const char *value);
const char *sieve_var_get(sieve_interp *it, const char *name);
/* Decode ${hex:..} and ${unicode:..} in place; false on a bad code point. */
bool sieve_encoded_decode(char **s, char **why_r);
/* Split flag strings into flags, de-duplicated (case-insensitive). */
void sieve_flags_split(const strlist *in, strlist *out);

/* ---- tables ---- */
/* Tagged argument: its name, capability, and what follows it. */
typedef struct sieve_tag_def {
	const char *name;
	unsigned cap;          /* 0: always available */
	char argtype;          /* 0 none, 'S' string, 'L' string list, 'N' number */
	int group;             /* tags in one group exclude each other; 0 none */
	void (*set)(sieve_opts *o, const char *tag, sieve_arg *arg);
} sieve_tag_def;

typedef int (*sieve_test_fn)(sieve_interp *it, const sieve_node *n);
typedef bool (*sieve_cmd_fn)(sieve_interp *it, const sieve_node *n);
typedef bool (*sieve_check_fn)(sieve_compiler *c, sieve_node *n);

struct sieve_def {
	const char *name;
	unsigned cap;
	bool is_test;
	const sieve_tag_def *const *tags;  /* NULL-terminated list of tag tables */
	const char *pos;       /* positional types in order: S, L, N */
	bool opt_first;        /* the first positional may be left out */
	int tests;             /* 0 none, 1 exactly one, 2 a list, 3 one (if) */
	int block;             /* 0 none, 1 required */
	sieve_check_fn check;
	sieve_cmd_fn run;
	sieve_test_fn test;
};

/* The common tag tables (validate.c). */
extern const sieve_tag_def sieve_tags_cmp[], sieve_tags_match[], sieve_tags_addr[],
	sieve_tags_index[];
/* Definitions, one array per file, each ending with a NULL name. */
extern const sieve_def sieve_defs_base[], sieve_defs_tests[], sieve_defs_fileinto[],
	sieve_defs_reject[], sieve_defs_vacation[], sieve_defs_flags[], sieve_defs_vars[],
	sieve_defs_body[], sieve_defs_date[], sieve_defs_include[];
const sieve_def *sieve_def_find(const char *name, bool is_test);
unsigned sieve_cap_bit(const char *name);

extern const sieve_tag_def sieve_tags_flags[], sieve_tags_copy[];
/* The flags a keep or fileinto stores with: its :flags, else the internal
 * variable as it is now (RFC 5232 3-5). */
void sieve_action_flags(sieve_interp *it, const sieve_node *n, strlist *out);
/* Run an included script in its own variable scope (run.c). */
bool sieve_run_script(sieve_interp *it, const sieve_script *s);

/* Helpers for check functions. */
bool sieve_arg_constant(const sieve_arg *a);   /* no "${" in any string */
#endif
