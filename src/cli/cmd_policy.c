/* cmd_policy.c — `yubin policy test`: run an envelope and a message
 * through the configured rules without a server, stage by stage, and
 * print every rule with whether it matched, and each stage's verdict.
 * Facts that a server would look up (the client's verified name, DNS
 * lists, SPF/DKIM/DMARC, a milter's score) are given as options; nothing
 * is sent and no DNS is asked. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/fsutil.h"
#include "policy/polconf.h"
#include "policy/rules.h"

#define POLICY_TEST_MAX ((size_t)64 << 20)

static void usage(void)
{
	fprintf(stderr,
	        "usage: yubin policy test --client IP [--client-name NAME] [--helo NAME] [--role smtp|submission|submissions]\n"
	        "                         [--user USER] --from ADDR --to ADDR [--to ADDR ...]\n"
	        "                         [--spf RESULT] [--dkim RESULT] [--dmarc RESULT] [--dnsbl LIST[=WEIGHT] ...]\n"
	        "                         [--spam-score N] [--virus NAME] [MESSAGE-FILE | -]\n"
	        "       yubin policy list add|del NAME VALUE | list show [NAME]\n");
}

static void trace(void *arg, const char *rule, bool matched)
{
	(void)arg;
	printf("  rule %-24s %s\n", rule, matched ? "matched" : "-");
}

typedef enum stage_end { STAGE_GO_ON, STAGE_ACCEPTED, STAGE_REFUSED } stage_end;

/* One stage: its rules, then what it decided. */
static stage_end run_stage(const policy_config *pc, policy_stage st, policy_facts *f, const policy_eval_env *env)
{
	if (!policy_rules_at(pc->rules, st))
		return STAGE_GO_ON;
	printf("stage %s%s%s\n", policy_stage_name(st), f->rcpt ? " to=" : "", f->rcpt ? f->rcpt : "");
	policy_verdict v;
	policy_verdict_init(&v);
	policy_rules_eval(pc->rules, st, f, env, &v);
	bool go_on = v.decision != POLICY_REJECT && v.decision != POLICY_TEMPFAIL;
	if (!go_on) {
		int code;
		const char *status, *text;
		policy_verdict_reply(&v, st, &code, &status, &text);
		printf("  verdict: %s by %s: %d %s %s\n", policy_decision_name(v.decision), v.by, code, status, text);
	} else {
		printf("  verdict: %s%s%s\n", policy_decision_name(v.decision), v.by ? " by " : "", v.by ? v.by : "");
	}
	for (size_t i = 0; i < v.add_headers.n; i++)
		printf("  add header: %s\n", v.add_headers.items[i]);
	for (size_t i = 0; i < v.remove_headers.n; i++)
		printf("  remove header: %s\n", v.remove_headers.items[i]);
	for (size_t i = 0; i < v.add_rcpts.n; i++)
		printf("  bcc: %s\n", v.add_rcpts.items[i]);
	if (v.redirect)
		printf("  redirect: %s\n", v.redirect);
	if (v.hold)
		printf("  hold\n");
	if (v.junk)
		printf("  junk\n");
	bool accepted = v.decision == POLICY_ACCEPT;
	policy_verdict_free(&v);
	if (accepted)
		printf("  (accepted: later rules stand aside)\n");
	return !go_on ? STAGE_REFUSED : accepted ? STAGE_ACCEPTED : STAGE_GO_ON;
}

typedef struct test_args {
	policy_facts f;
	strlist rcpts;
	policy_dnsbl_hit hits[16];
	const char *file;
} test_args;

static bool parse_role(const char *s, listener_role *r)
{
	static const char *const names[] = {"smtp", "submission", "submissions"};
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*r = (listener_role)i;
			return true;
		}
	return false;
}

static bool parse_args(int argc, char **argv, test_args *a)
{
	static const struct option opts[] = {
		{"client", required_argument, NULL, 'c'}, {"client-name", required_argument, NULL, 'n'},
		{"helo", required_argument, NULL, 'h'},   {"role", required_argument, NULL, 'r'},
		{"user", required_argument, NULL, 'u'},   {"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},     {"spf", required_argument, NULL, 'S'},
		{"dkim", required_argument, NULL, 'K'},   {"dmarc", required_argument, NULL, 'D'},
		{"dnsbl", required_argument, NULL, 'b'},  {"spam-score", required_argument, NULL, 's'},
		{"virus", required_argument, NULL, 'v'},  {NULL, 0, NULL, 0},
	};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': a->f.client_ip = optarg; break;
		case 'n': a->f.client_name = optarg; break;
		case 'h': a->f.helo = optarg; break;
		case 'r':
			if (!parse_role(optarg, &a->f.role))
				return false;
			break;
		case 'u': a->f.user = optarg; break;
		case 'f': a->f.sender = optarg; break;
		case 't': strlist_add(&a->rcpts, optarg); break;
		case 'S': a->f.spf = optarg; break;
		case 'K': a->f.dkim = optarg; break;
		case 'D': a->f.dmarc = optarg; break;
		case 'b': {
			if (a->f.n_dnsbl == sizeof a->hits / sizeof a->hits[0])
				return false;
			char *eq = strchr(optarg, '=');
			policy_dnsbl_hit *h = &a->hits[a->f.n_dnsbl++];
			h->weight = eq ? strtod(eq + 1, NULL) : 1.0;
			if (eq)
				*eq = '\0';
			h->list = optarg;
			h->answer = "127.0.0.2";
			a->f.dnsbl_score += h->weight;
			break;
		}
		case 's':
			a->f.has_spam_score = true;
			a->f.spam_score = strtod(optarg, NULL);
			break;
		case 'v': a->f.virus = optarg; break;
		default: return false;
		}
	}
	a->f.dnsbl = a->hits;
	a->file = optind < argc ? argv[optind++] : NULL;
	return optind == argc && a->f.client_ip != NULL && a->f.sender != NULL && a->rcpts.n > 0;
}

/* The message as the server holds it: LF line ends. */
static char *read_message(const char *file, size_t *len_r)
{
	size_t len = 0;
	char *m = fs_read_file(strcmp(file, "-") == 0 ? "/dev/stdin" : file, POLICY_TEST_MAX, &len);
	if (m == NULL)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (!(m[i] == '\r' && i + 1 < len && m[i + 1] == '\n'))
			m[n++] = m[i];
	m[n] = '\0';
	*len_r = n;
	return m;
}

static int policy_test(cli_ctx *ctx, int argc, char **argv)
{
	test_args a = {.f = {.role = ROLE_SMTP, .now = time(NULL), .helo = "client.example"}};
	strlist_init(&a.rcpts);
	if (!parse_args(argc, argv, &a)) {
		usage();
		strlist_free(&a.rcpts);
		return 2;
	}
	const policy_config *pc = ctx->policy;
	policy_eval_env env = {.lists = pc->lists, .body_limit = (size_t)ctx->cfg->policy.body_scan_limit,
	                       .trace = trace};
	policy_facts *f = &a.f;
	char *msg = NULL;
	if (a.file != NULL && (msg = read_message(a.file, &f->msg_len)) == NULL) {
		cli_error("cannot read the message %s", a.file);
		strlist_free(&a.rcpts);
		return 1;
	}
	f->msg = msg;
	f->size = f->msg_len;
	if (pc->rules == NULL)
		printf("no rules in %s\n", ctx->cfg->path);
	stage_end e = STAGE_GO_ON;
	for (policy_stage st = POLICY_CONNECT; e == STAGE_GO_ON && st < POLICY_STAGES; st++) {
		if (st == POLICY_RCPT) {
			for (size_t i = 0; e == STAGE_GO_ON && i < a.rcpts.n; i++) {
				f->rcpt = a.rcpts.items[i];
				e = run_stage(pc, POLICY_RCPT, f, &env);
			}
			f->rcpt = NULL;
			f->rcpts = &a.rcpts;
		} else if (st == POLICY_DATA && msg == NULL && policy_rules_at(pc->rules, POLICY_DATA)) {
			printf("stage data: not run (no message file given)\n");
		} else {
			e = run_stage(pc, st, f, &env);
		}
	}
	printf("result: %s\n", e == STAGE_REFUSED ? "refused" : "accepted");
	free(msg);
	strlist_free(&a.rcpts);
	return 0;
}

int cmd_policy(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return policy_test(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_policy_list(ctx, argc - 1, argv + 1);
	usage();
	return 2;
}
