/* rules.c — reading policy.rules from the configuration (see rules.h):
 * every condition and action checked, every pattern compiled, every
 * problem reported as "file:line: rule NAME: sentence".  Evaluation is
 * eval.c's. */
#include "policy/rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/lists.h"
#include "policy/rules_int.h"

typedef enum val_form {
	V_MATCH, V_MATCH_IP, V_HEADER, V_TEXT, V_BOOL, V_VIRUS, V_WORDS, V_CMP, V_SIZE, V_TIME, V_DAYS, V_ROLES,
} val_form;

static const char *const spf_words[] = {"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror", NULL};
static const char *const dkim_words[] = {"none", "pass", "fail", "policy", "neutral", "temperror", "permerror", NULL};
static const char *const dmarc_words[] = {"none", "pass", "fail", "temperror", "permerror", NULL};
static const char *const day_words[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};
static const char *const role_words[] = {"smtp", "submission", "submissions", NULL};

static const struct cond_def {
	const char *name;
	cond_kind kind;
	policy_stage stage;      /* the earliest stage that knows the fact */
	val_form form;
	const char *const *words;
} cond_defs[] = {
	{"client", C_CLIENT, POLICY_CONNECT, V_MATCH_IP, NULL},
	{"client_name", C_CLIENT_NAME, POLICY_CONNECT, V_MATCH, NULL},
	{"role", C_ROLE, POLICY_CONNECT, V_ROLES, role_words},
	{"time", C_TIME, POLICY_CONNECT, V_TIME, NULL},
	{"weekday", C_WEEKDAY, POLICY_CONNECT, V_DAYS, day_words},
	{"helo", C_HELO, POLICY_HELO, V_MATCH, NULL},
	{"user", C_USER, POLICY_MAIL, V_MATCH, NULL},
	{"authenticated", C_AUTHENTICATED, POLICY_MAIL, V_BOOL, NULL},
	{"sender", C_SENDER, POLICY_MAIL, V_MATCH, NULL},
	{"sender_domain", C_SENDER_DOMAIN, POLICY_MAIL, V_MATCH, NULL},
	{"dnsbl", C_DNSBL, POLICY_MAIL, V_MATCH, NULL},
	{"dnsbl_score", C_DNSBL_SCORE, POLICY_MAIL, V_CMP, NULL},
	{"rcpt", C_RCPT, POLICY_RCPT, V_MATCH, NULL},
	{"rcpt_domain", C_RCPT_DOMAIN, POLICY_RCPT, V_MATCH, NULL},
	{"size_over", C_SIZE_OVER, POLICY_DATA, V_SIZE, NULL},
	{"header", C_HEADER, POLICY_DATA, V_HEADER, NULL},
	{"body", C_BODY, POLICY_DATA, V_TEXT, NULL},
	{"spf", C_SPF, POLICY_DATA, V_WORDS, spf_words},
	{"dkim", C_DKIM, POLICY_DATA, V_WORDS, dkim_words},
	{"dmarc", C_DMARC, POLICY_DATA, V_WORDS, dmarc_words},
	{"spam_score", C_SPAM_SCORE, POLICY_DATA, V_CMP, NULL},
	{"virus", C_VIRUS, POLICY_DATA, V_VIRUS, NULL},
};

static const char *const action_keys[] = {"name", "stage", "action", "code", "status", "text",
                                          "add_header", "remove_header", "bcc", "redirect", NULL};

static const struct {
	const char *word;
	policy_decision d;
	bool hold, junk;
} action_words[] = {
	{"continue", POLICY_CONTINUE, false, false}, {"accept", POLICY_ACCEPT, false, false},
	{"reject", POLICY_REJECT, false, false},     {"tempfail", POLICY_TEMPFAIL, false, false},
	{"discard", POLICY_DISCARD, false, false},   {"hold", POLICY_CONTINUE, true, false},
	{"junk", POLICY_CONTINUE, false, true},
};

/* What the reader of one rule carries around. */
typedef struct rctx {
	const char *file;
	strlist *errors;
	const char *rule;        /* its name, or "#N" before the name is known */
	bool ok;
} rctx;

static void err(rctx *c, const config_setting_t *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err(rctx *c, const config_setting_t *at, const char *fmt, ...)
{
	char *prefix = xasprintf("rule %s: ", c->rule);
	va_list ap;
	va_start(ap, fmt);
	policy_config_verror(c->errors, c->file, at, prefix, fmt, ap);
	va_end(ap);
	free(prefix);
	c->ok = false;
}

/* The strings of a setting: one string, or a list / array of strings. */
static bool get_strings(rctx *c, const config_setting_t *s, strlist *out)
{
	strlist_init(out);
	int t = config_setting_type(s);
	if (t == CONFIG_TYPE_STRING) {
		strlist_add(out, config_setting_get_string(s));
		return true;
	}
	if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
		for (int i = 0; i < config_setting_length(s); i++) {
			const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
			if (v == NULL) {
				err(c, s, "%s must be a string or a list of strings", config_setting_name(s));
				strlist_free(out);
				return false;
			}
			strlist_add(out, v);
		}
		if (out->n > 0)
			return true;
	}
	err(c, s, "%s must be a string or a non-empty list of strings, like \"x\" or [ \"x\", \"y\" ]",
	    config_setting_name(s));
	strlist_free(out);
	return false;
}

static int word_index(const char *const *words, const char *w)
{
	for (int i = 0; words[i] != NULL; i++)
		if (strcasecmp(words[i], w) == 0)
			return i;
	return -1;
}

static char *words_list(const char *const *words)
{
	strlist l;
	strlist_init(&l);
	for (int i = 0; words[i] != NULL; i++)
		strlist_add(&l, words[i]);
	char *s = strlist_join(&l, ", ");
	strlist_free(&l);
	return s;
}

static bool compile_patterns(rctx *c, const config_setting_t *s, const strlist *vals, policy_match_domain dom,
                             rule_cond *k)
{
	k->m = xcalloc(vals->n, sizeof(*k->m));
	for (size_t i = 0; i < vals->n; i++) {
		char *e;
		if (!policy_match_compile(vals->items[i], dom, &k->m[k->n_m], &e)) {
			err(c, s, "%s", e);
			free(e);
			return false;
		}
		k->n_m++;
	}
	return true;
}

/* "Subject: pattern" */
static bool read_header_cond(rctx *c, const config_setting_t *s, const strlist *vals, rule_cond *k)
{
	k->m = xcalloc(vals->n, sizeof(*k->m));
	for (size_t i = 0; i < vals->n; i++) {
		const char *v = vals->items[i], *colon = strchr(v, ':');
		size_t n = colon ? (size_t)(colon - v) : 0;
		for (size_t j = 0; j < n; j++)
			if (v[j] <= ' ' || v[j] > '~')
				n = 0;
		char *name = n ? xstrndup(v, n) : NULL;
		if (name == NULL || (k->field != NULL && strcasecmp(k->field, name) != 0)) {
			err(c, s, "header must be \"Field-Name: pattern\", one field name per condition, like "
			          "\"Subject: /free money/i\"");
			free(name);
			return false;
		}
		free(k->field);
		k->field = name;
		const char *pat = colon + 1;
		while (*pat == ' ' || *pat == '\t')
			pat++;
		char *e;
		if (!policy_match_compile(pat, PMD_TEXT, &k->m[k->n_m], &e)) {
			err(c, s, "%s", e);
			free(e);
			return false;
		}
		k->n_m++;
	}
	return true;
}

/* ">= 5", "< 1.5", "3" (meaning >=) */
static bool read_cmp(rctx *c, const config_setting_t *s, rule_cond *k)
{
	int t = config_setting_type(s);
	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT) {
		k->op = CMP_GE;
		k->num = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)config_setting_get_int64(s);
		return true;
	}
	const char *v = config_setting_get_string(s);
	static const struct { const char *w; cmp_op op; } ops[] = {
		{">=", CMP_GE}, {"<=", CMP_LE}, {">", CMP_GT}, {"<", CMP_LT}, {"=", CMP_EQ},
	};
	if (v != NULL) {
		while (*v == ' ')
			v++;
		k->op = CMP_GE;
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (strncmp(v, ops[i].w, strlen(ops[i].w)) == 0) {
				k->op = ops[i].op;
				v += strlen(ops[i].w);
				break;
			}
		char *end;
		k->num = strtod(v, &end);
		while (*end == ' ')
			end++;
		if (end != v && *end == '\0')
			return true;
	}
	err(c, s, "%s must be a number or a comparison like \">= 5\"", config_setting_name(s));
	return false;
}

static bool read_minutes(const char *s, int *out, const char **end_r)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return false;
	int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0';
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return false;
	*out = h * 60 + m;
	*end_r = s + 5;
	return true;
}

/* "09:00-17:30", local time; the end is not included; may wrap midnight */
static bool read_time(rctx *c, const config_setting_t *s, rule_cond *k)
{
	const char *v = config_setting_get_string(s), *p;
	if (v != NULL && read_minutes(v, &k->from_min, &p) && *p == '-' && read_minutes(p + 1, &k->to_min, &p) &&
	    *p == '\0' && k->from_min != k->to_min)
		return true;
	err(c, s, "time must be a span of the day like \"09:00-17:30\" (local time; may pass midnight)");
	return false;
}

static bool read_word_set(rctx *c, const config_setting_t *s, const strlist *vals, const char *const *words,
                          unsigned *mask)
{
	for (size_t i = 0; i < vals->n; i++) {
		int w = word_index(words, vals->items[i]);
		if (w < 0) {
			char *known = words_list(words);
			err(c, s, "%s: \"%s\" is not one of %s", config_setting_name(s), vals->items[i], known);
			free(known);
			return false;
		}
		*mask |= 1u << w;
	}
	return true;
}

static bool read_bool(const config_setting_t *s, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return false;
	*out = config_setting_get_bool(s) != 0;
	return true;
}

/* One condition; false (error added) when it is wrong. */
static bool read_cond(rctx *c, const config_setting_t *s, const struct cond_def *d, bool negate, rule_cond *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = d->kind;
	k->negate = negate;
	strlist vals;
	strlist_init(&vals);
	bool ok = false;
	switch (d->form) {
	case V_BOOL:
		ok = read_bool(s, &k->flag);
		if (!ok)
			err(c, s, "%s must be true or false", config_setting_name(s));
		return ok;
	case V_VIRUS:
		if (read_bool(s, &k->flag)) {
			k->any_virus = true;
			return true;
		}
		ok = get_strings(c, s, &vals) && compile_patterns(c, s, &vals, PMD_WORD, k);
		break;
	case V_CMP:
		return read_cmp(c, s, k);
	case V_SIZE: {
		int t = config_setting_type(s);
		if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
			k->size = config_setting_get_int64(s);
			if (k->size >= 0)
				return true;
		}
		err(c, s, "size_over must be a number of bytes, like 10485760");
		return false;
	}
	case V_TIME:
		return read_time(c, s, k);
	case V_DAYS:
		ok = get_strings(c, s, &vals) && read_word_set(c, s, &vals, d->words, &k->days);
		break;
	case V_ROLES:
		ok = get_strings(c, s, &vals) && read_word_set(c, s, &vals, d->words, &k->roles);
		break;
	case V_WORDS:
		ok = get_strings(c, s, &vals);
		for (size_t i = 0; ok && i < vals.n; i++)
			if (word_index(d->words, vals.items[i]) < 0) {
				char *known = words_list(d->words);
				err(c, s, "%s: \"%s\" is not a result (known: %s)", d->name, vals.items[i], known);
				free(known);
				ok = false;
			}
		ok = ok && compile_patterns(c, s, &vals, PMD_WORD, k);
		break;
	case V_HEADER:
		ok = get_strings(c, s, &vals) && read_header_cond(c, s, &vals, k);
		break;
	case V_TEXT:
		ok = get_strings(c, s, &vals) && compile_patterns(c, s, &vals, PMD_TEXT, k);
		break;
	case V_MATCH:
	case V_MATCH_IP:
		ok = get_strings(c, s, &vals) &&
		     compile_patterns(c, s, &vals, d->form == V_MATCH_IP ? PMD_IP : PMD_WORD, k);
		break;
	}
	strlist_free(&vals);
	return ok;
}

static const struct cond_def *find_cond(const char *name)
{
	for (size_t i = 0; i < sizeof(cond_defs) / sizeof(cond_defs[0]); i++)
		if (strcmp(cond_defs[i].name, name) == 0)
			return &cond_defs[i];
	return NULL;
}

/* A header field to add: "Name: value", one line, printable. */
static bool valid_field(const char *f)
{
	const char *colon = strchr(f, ':');
	if (colon == NULL || colon == f)
		return false;
	for (const char *p = f; p < colon; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	for (const char *p = colon; *p; p++)
		if (*p == '\r' || *p == '\n')
			return false;
	return strlen(f) <= 998;
}

static bool valid_field_name(const char *f)
{
	if (*f == '\0')
		return false;
	for (const char *p = f; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == ':')
			return false;
	return true;
}

static bool valid_mailbox(const char *a)
{
	const char *at = strrchr(a, '@');
	if (at == NULL || at == a || at[1] == '\0')
		return false;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>')
			return false;
	return true;
}

/* The action keys of a rule. */
static void read_action(rctx *c, const config_setting_t *m, const char *key, rule *r)
{
	strlist vals;
	const char *sv = config_setting_get_string(m);
	int t = config_setting_type(m);
	if (strcmp(key, "action") == 0) {
		for (size_t i = 0; sv != NULL && i < sizeof(action_words) / sizeof(action_words[0]); i++)
			if (strcmp(sv, action_words[i].word) == 0) {
				r->decision = action_words[i].d;
				r->hold = action_words[i].hold;
				r->junk = action_words[i].junk;
				return;
			}
		err(c, m, "action must be \"accept\", \"reject\", \"tempfail\", \"discard\", \"hold\", \"junk\" or "
		          "\"continue\"");
	} else if (strcmp(key, "code") == 0) {
		long long v = (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) ? config_setting_get_int64(m) : 0;
		if (v < 400 || v > 599)
			err(c, m, "code must be a reply code from 400 to 599");
		r->code = (int)v;
	} else if (strcmp(key, "status") == 0) {
		if (sv == NULL || strlen(sv) > 11 || (sv[0] != '4' && sv[0] != '5') || sv[1] != '.' ||
		    strspn(sv + 2, "0123456789.") != strlen(sv + 2) || strchr(sv + 2, '.') == NULL)
			err(c, m, "status must be an enhanced status code like \"5.7.1\"");
		else
			r->status = xstrdup(sv);
	} else if (strcmp(key, "text") == 0) {
		bool ok = sv != NULL && *sv != '\0' && strlen(sv) <= 400;
		for (const char *p = sv; ok && *p; p++)
			ok = (unsigned char)*p >= ' ' && *p != 0x7f;
		if (!ok)
			err(c, m, "text must be one line of printable text (at most 400 characters)");
		else
			r->text = xstrdup(sv);
	} else if (strcmp(key, "redirect") == 0) {
		if (sv == NULL || !valid_mailbox(sv))
			err(c, m, "redirect must be one address, like \"quarantine@example.org\"");
		else
			r->redirect = xstrdup(sv);
	} else if (get_strings(c, m, &vals)) {
		strlist *to = strcmp(key, "add_header") == 0 ? &r->add_headers
		              : strcmp(key, "remove_header") == 0 ? &r->remove_headers : &r->bcc;
		for (size_t i = 0; i < vals.n; i++) {
			const char *v = vals.items[i];
			bool ok = to == &r->add_headers ? valid_field(v) : to == &r->remove_headers ? valid_field_name(v)
			                                                                        : valid_mailbox(v);
			if (!ok)
				err(c, m, "%s: \"%s\" is not %s", key, v,
				    to == &r->add_headers      ? "a header field like \"X-Policy: partner\""
				    : to == &r->remove_headers ? "a header field name"
				                               : "an address");
			else
				strlist_add(to, v);
		}
		strlist_free(&vals);
	}
}

static bool is_action_key(const char *k)
{
	for (size_t i = 0; action_keys[i] != NULL; i++)
		if (strcmp(action_keys[i], k) == 0)
			return true;
	return false;
}

static void rule_free(rule *r)
{
	for (size_t i = 0; i < r->n_conds; i++) {
		for (size_t j = 0; j < r->conds[i].n_m; j++)
			policy_match_free(&r->conds[i].m[j]);
		free(r->conds[i].m);
		free(r->conds[i].field);
	}
	free(r->conds);
	free(r->name);
	free(r->status);
	free(r->text);
	free(r->redirect);
	strlist_free(&r->add_headers);
	strlist_free(&r->remove_headers);
	strlist_free(&r->bcc);
}

/* The reply of a refusing rule must be of its kind. */
static void check_reply(rctx *c, const config_setting_t *g, const rule *r)
{
	if (r->code == 0 && r->status == NULL && r->text == NULL)
		return;
	if (r->decision != POLICY_REJECT && r->decision != POLICY_TEMPFAIL) {
		err(c, g, "code, status and text go with action \"reject\" or \"tempfail\"");
		return;
	}
	char want = r->decision == POLICY_REJECT ? '5' : '4';
	if (r->code != 0 && r->code / 100 != want - '0')
		err(c, g, "code %d does not fit action \"%s\" (%cxx)", r->code, policy_decision_name(r->decision), want);
	if (r->status != NULL && r->status[0] != want)
		err(c, g, "status %s does not fit action \"%s\" (%c.x.x)", r->status, policy_decision_name(r->decision),
		    want);
}

static void rule_cond_free_partial(rule_cond *k)
{
	for (size_t j = 0; j < k->n_m; j++)
		policy_match_free(&k->m[j]);
	free(k->m);
	free(k->field);
	memset(k, 0, sizeof(*k));
}

/* Read each member of the rule group g into r. */
static void read_members(rctx *c, const config_setting_t *g, rule *r, policy_stage *need, const config_setting_t **stage_at)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(m);
		bool negate = strncmp(key, "not_", 4) == 0;
		const struct cond_def *d = find_cond(negate ? key + 4 : key);
		if (d != NULL) {
			r->conds = xrealloc(r->conds, (r->n_conds + 1) * sizeof(*r->conds));
			if (read_cond(c, m, d, negate, &r->conds[r->n_conds]))
				r->n_conds++;
			else
				rule_cond_free_partial(&r->conds[r->n_conds]);
			if (d->stage > *need)
				*need = d->stage;
		} else if (strcmp(key, "name") == 0) {
			/* read first, by the caller */
		} else if (strcmp(key, "stage") == 0) {
			const char *sv = config_setting_get_string(m);
			if (sv == NULL || !policy_stage_parse(sv, &r->stage))
				err(c, m, "stage must be \"connect\", \"helo\", \"mail\", \"rcpt\" or \"data\"");
			*stage_at = m;
		} else if (is_action_key(key)) {
			read_action(c, m, key, r);
		} else {
			err(c, m, "unknown setting \"%s\" (conditions: client, client_name, helo, role, user, "
			          "authenticated, sender, sender_domain, rcpt, rcpt_domain, size_over, header, body, spf, "
			          "dkim, dmarc, dnsbl, dnsbl_score, spam_score, virus, time, weekday, each also with not_; "
			          "actions: action, code, status, text, add_header, remove_header, bcc, redirect; stage, "
			          "name)",
			    key);
		}
	}
}

static bool read_rule(policy_rules *rs, const config_setting_t *g, const char *file, strlist *errors, size_t index)
{
	char numbered[32];
	snprintf(numbered, sizeof numbered, "#%zu", index + 1);
	rctx c = {.file = file, .errors = errors, .rule = numbered, .ok = true};
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		err(&c, g, "each rule must be a group like { name = \"block-x\"; sender_domain = \"x.example\"; "
		           "action = \"reject\"; }");
		return false;
	}
	rule r = {.line = (int)config_setting_source_line(g), .stage = POLICY_CONNECT};
	strlist_init(&r.add_headers);
	strlist_init(&r.remove_headers);
	strlist_init(&r.bcc);
	const config_setting_t *nm = config_setting_get_member(g, "name");
	const char *name = nm ? config_setting_get_string(nm) : NULL;
	if (name == NULL || *name == '\0' || strlen(name) > 64 || strpbrk(name, " \t\"=") != NULL) {
		err(&c, nm ? nm : g, "needs a name = \"...\"; (one word, at most 64 characters), used in logs");
	} else {
		r.name = xstrdup(name);
		c.rule = r.name;
		for (size_t i = 0; i < rs->n; i++)
			if (strcmp(rs->v[i].name, name) == 0)
				err(&c, nm, "the name is used by the rule on line %d too", rs->v[i].line);
	}
	policy_stage need = POLICY_CONNECT;
	const config_setting_t *stage_at = NULL;
	read_members(&c, g, &r, &need, &stage_at);
	if (stage_at == NULL)
		r.stage = need;
	else if (r.stage < need)
		err(&c, stage_at, "stage \"%s\" is too early: its conditions are known only at \"%s\"",
		    policy_stage_name(r.stage), policy_stage_name(need));
	check_reply(&c, g, &r);
	if (!c.ok) {
		rule_free(&r);
		return false;
	}
	rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof(*rs->v));
	rs->v[rs->n++] = r;
	for (size_t i = 0; i < r.n_conds; i++) {
		rs->need_name |= r.conds[i].kind == C_CLIENT_NAME;
		rs->need_message |= r.conds[i].kind == C_HEADER || r.conds[i].kind == C_BODY;
	}
	rs->need_message |= r.remove_headers.n > 0;
	return true;
}

bool policy_rules_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		policy_config_error(errors, file, s, "policy.rules must be a list in parentheses: ( { name = ...; }, ... )");
		return false;
	}
	policy_rules *rs = xcalloc(1, sizeof(*rs));
	bool ok = true;
	for (int i = 0; i < config_setting_length(s); i++)
		ok &= read_rule(rs, config_setting_get_elem(s, (unsigned)i), file, errors, (size_t)i);
	policy_rules_free(&pc->rules);
	pc->rules = rs;
	return ok;
}

bool policy_rules_check(const policy_rules *rs, const struct policy_lists *lists, const char *file, strlist *errors)
{
	bool ok = true;
	for (size_t i = 0; rs != NULL && i < rs->n; i++)
		for (size_t j = 0; j < rs->v[i].n_conds; j++)
			for (size_t k = 0; k < rs->v[i].conds[j].n_m; k++) {
				const policy_match *m = &rs->v[i].conds[j].m[k];
				if (m->kind == PM_LIST && !policy_lists_has(lists, m->text)) {
					strlist_add_owned(errors, xasprintf("%s:%d: rule %s: there is no list \"%s\" in policy.lists",
					                                    file, rs->v[i].line, rs->v[i].name, m->text));
					ok = false;
				}
			}
	return ok;
}

void policy_rules_free(policy_rules **rp)
{
	policy_rules *rs = *rp;
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rule_free(&rs->v[i]);
	free(rs->v);
	free(rs);
	*rp = NULL;
}

bool policy_rules_at(const policy_rules *rs, policy_stage st)
{
	for (size_t i = 0; rs != NULL && i < rs->n; i++)
		if (rs->v[i].stage == st)
			return true;
	return false;
}

bool policy_rules_need_client_name(const policy_rules *rs)
{
	return rs != NULL && rs->need_name;
}

bool policy_rules_need_message(const policy_rules *rs)
{
	return rs != NULL && rs->need_message;
}
