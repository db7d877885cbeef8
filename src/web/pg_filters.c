/* pg_filters.c — the Filters page of the logged-in account (every
 * account, administrator or not): its Sieve scripts, the same ones
 * ManageSieve serves (store/sievestore.h), listed with the active one
 * marked; one script edited in a textarea and saved only when it compiles
 * (sieve/upload.h, the check PUTSCRIPT makes: the compiler's line and
 * column are shown over the text as typed, which is kept); activate,
 * deactivate, delete; and the vacation reply as a form that writes its
 * own script (web/vacform.h).  ManageSieve's limits apply (script size,
 * number of scripts, name rules).  Only ever the session's own account:
 * no request names an account.  The store is read and written on a
 * worker.  Must not render any other page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/accounts.h"
#include "delivery/maildir.h"
#include "lib/log.h"
#include "sieve/upload.h"
#include "store/sievestore.h"
#include "web/html.h"
#include "web/page.h"
#include "web/vacform.h"

#define TITLE "Filters"
#define PATH "/account/filters"
/* Addresses offered as the reply's sender: the account's own, its
 * aliases and send-as addresses, at most this many. */
#define FROM_CHOICES_MAX 100

typedef enum filters_op { OP_SHOW, OP_SAVE, OP_ACTIVATE, OP_DEACTIVATE, OP_DELETE, OP_VACATION } filters_op;

typedef struct filters_job {
	web_job base;
	filters_op op;
	bool refused;        /* the form was refused before any work: show the page only */
	char *name;          /* the script saved, (de)activated, deleted, or edited (?edit=) */
	char *text;          /* the editor's text: as typed (SAVE) or as stored (?edit=) */
	bool editing;        /* the editor holds name and text (else: a new script) */
	char *compile_error; /* SAVE refused by the compiler: its sentence */
	unsigned err_line, err_col;
	vacform vac;         /* the vacation form: as typed (OP_VACATION) or read from its script */
	bool vac_on;         /* the reply's script is active (after work) */
	bool vac_asked;      /* OP_VACATION: the form's checkbox */
	bool vac_typed;      /* vac holds what was typed (shown again after an error) */
	bool vac_foreign;    /* a script of the user's own is named "vacation" */
	bool vac_ours;       /* the script "vacation" is the form's */
	strlist from_choices;
	sievestore_script *list;
	size_t n;
	char *notice, *error;
} filters_job;

/* ---- on the worker ---- */

static void set_error(filters_job *f, int status, char *text)
{
	f->base.status = status;
	free(f->error);
	f->error = text;
}

static char *scripts_dir(web_job *j)
{
	char *root = config_path_mail(j->srv->cfg);
	char *md = maildir_path(root, j->user);
	char *dir = sievestore_dir(md);
	free(md);
	free(root);
	return dir;
}

static void log_op(web_job *j, const char *op, const char *script, const char *result)
{
	log_event(LOG_LVL_INFO, "web_filters", "req=%s user=%s op=%s script=\"%s\" result=%s", http_req_id(j->r),
	          j->user, op, script != NULL ? script : "", result);
}

/* A store failure the user cannot fix: 503, logged by the page. */
static void store_failed(web_job *j, const char *what)
{
	if (j->err == NULL)
		j->err = xasprintf("script store: cannot %s", what);
}

/* "3:14: text" from the check: line, column and sentence apart. */
static void compile_refused(filters_job *f, const char *msg)
{
	unsigned line = 0, col = 0;
	int used = 0;
	if (msg != NULL && sscanf(msg, "%u:%u: %n", &line, &col, &used) == 2 && used > 0) {
		f->err_line = line;
		f->err_col = col;
		f->compile_error = xstrdup(msg + used);
	} else {
		f->compile_error = xstrdup(msg != NULL ? msg : "the script is not valid");
	}
	f->base.status = 400;
}

static void save(filters_job *f, const char *dir)
{
	web_job *j = &f->base;
	size_t len = strlen(f->text);
	char *msg = NULL;
	sieve_upload_status cs = sieve_upload_check(f->text, len, &msg);
	if (cs == SIEVE_UPLOAD_ERROR) {
		compile_refused(f, msg);
		log_op(j, "save", f->name, "invalid");
		free(msg);
		return;
	}
	sievestore_status st = sievestore_put(dir, f->name, f->text, len, j->srv->cfg->managesieve.max_scripts);
	log_op(j, "save", f->name, st == SIEVESTORE_OK ? "ok" : st == SIEVESTORE_MAXSCRIPTS ? "maxscripts" : "error");
	if (st == SIEVESTORE_OK)
		f->notice = cs == SIEVE_UPLOAD_WARNINGS ? xasprintf("The script \"%s\" is saved (%s).", f->name, msg)
		                                        : xasprintf("The script \"%s\" is saved.", f->name);
	else if (st == SIEVESTORE_MAXSCRIPTS)
		set_error(f, 409, xasprintf("You have as many scripts as an account may keep (%d): delete one first.",
		                            j->srv->cfg->managesieve.max_scripts));
	else
		store_failed(j, "store a script");
	free(msg);
}

static void activate(filters_job *f, const char *dir, const char *name)
{
	web_job *j = &f->base;
	sievestore_status st = sievestore_activate(dir, name);
	log_op(j, name != NULL ? "activate" : "deactivate", name,
	       st == SIEVESTORE_OK ? "ok" : st == SIEVESTORE_NONEXISTENT ? "nonexistent" : "error");
	if (st == SIEVESTORE_OK && name != NULL)
		f->notice = xasprintf("The script \"%s\" is active: it filters the mail that arrives from now on.", name);
	else if (st == SIEVESTORE_OK)
		f->notice = xstrdup("No script is active: new mail goes to the inbox unfiltered.");
	else if (st == SIEVESTORE_NONEXISTENT)
		set_error(f, 404, xstrdup("You have no script of that name."));
	else
		store_failed(j, "activate a script");
}

static void delete_script(filters_job *f, const char *dir)
{
	web_job *j = &f->base;
	sievestore_status st = sievestore_delete(dir, f->name);
	log_op(j, "delete", f->name, st == SIEVESTORE_OK ? "ok" : st == SIEVESTORE_ACTIVE ? "active"
	                             : st == SIEVESTORE_NONEXISTENT ? "nonexistent" : "error");
	if (st == SIEVESTORE_OK)
		f->notice = xasprintf("The script \"%s\" is deleted.", f->name);
	else if (st == SIEVESTORE_ACTIVE)
		set_error(f, 409, xstrdup("The active script cannot be deleted: deactivate it first."));
	else if (st == SIEVESTORE_NONEXISTENT)
		set_error(f, 404, xstrdup("You have no script of that name."));
	else
		store_failed(j, "delete a script");
}

/* The addresses the reply may come from: the account's own, the aliases
 * that deliver to it directly, its send-as addresses (not whole domains). */
static void from_choices(filters_job *f)
{
	web_job *j = &f->base;
	strlist_add(&f->from_choices, j->user);
	char *path = config_path_db(j->srv->cfg), *err = NULL;
	accounts *acc = accounts_open(path, NULL, &err);
	strlist aliases, sendas;
	strlist_init(&aliases);
	strlist_init(&sendas);
	if (acc == NULL || accounts_alias_list(acc, &aliases) != ACC_OK ||
	    accounts_sendas_list(acc, j->user, &sendas) != ACC_OK)
		log_event(LOG_LVL_WARN, "web_filters", "req=%s user=%s error=\"cannot read the account's addresses: %s\"",
		          http_req_id(j->r), j->user, acc != NULL ? accounts_last_error(acc) : err != NULL ? err : "");
	for (size_t i = 0; i < aliases.n && f->from_choices.n < FROM_CHOICES_MAX; i++) {
		const char *line = aliases.items[i], *sp = strchr(line, ' ');
		if (sp != NULL && line[0] != '@' && strcasecmp(sp + 1, j->user) == 0) {
			char *alias = xstrndup(line, (size_t)(sp - line));
			if (!strlist_contains(&f->from_choices, alias))
				strlist_add(&f->from_choices, alias);
			free(alias);
		}
	}
	for (size_t i = 0; i < sendas.n && f->from_choices.n < FROM_CHOICES_MAX; i++)
		if (sendas.items[i][0] != '@' && !strlist_contains(&f->from_choices, sendas.items[i]))
			strlist_add(&f->from_choices, sendas.items[i]);
	strlist_free(&aliases);
	strlist_free(&sendas);
	accounts_close(&acc);
	free(err);
	free(path);
}

static const sievestore_script *active_script(const filters_job *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->list[i].active)
			return &f->list[i];
	return NULL;
}

static bool have_script(const filters_job *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->list[i].name, name) == 0)
			return true;
	return false;
}

/* The form's script as stored: *ours_r when there is one and the form
 * made it; then *old_r (initialised) holds what it says. */
static bool read_vacation(filters_job *f, const char *dir, bool *ours_r, vacform *old_r)
{
	char *text = NULL;
	size_t len = 0;
	*ours_r = false;
	size_t max = (size_t)f->base.srv->cfg->managesieve.max_script_size;
	sievestore_status st = sievestore_get(dir, VACFORM_SCRIPT, max, &text, &len);
	if (st == SIEVESTORE_NONEXISTENT)
		return true;
	if (st != SIEVESTORE_OK)
		return false;
	*ours_r = vacform_is_ours(text, len);
	f->vac_foreign = !*ours_r;
	if (*ours_r && !vacform_read(text, len, old_r))
		*ours_r = false;
	free(text);
	return true;
}

/* Turning the reply on: the script is written and made active; the script
 * active before (or the one the reply already included) runs after it. */
static void vacation_on(filters_job *f, const char *dir, const sievestore_script *active, const vacform *old)
{
	web_job *j = &f->base;
	const char *why = vacform_check(&f->vac);
	if (why == NULL && f->vac.from != NULL && !strlist_contains(&f->from_choices, f->vac.from))
		why = "The reply's sender must be one of your addresses.";
	if (why != NULL) {
		set_error(f, 400, xstrdup(why));
		return;
	}
	free(f->vac.include);
	f->vac.include = active == NULL ? NULL
	               : strcmp(active->name, VACFORM_SCRIPT) != 0 ? xstrdup(active->name)
	               : old->include != NULL ? xstrdup(old->include) : NULL;
	if ((why = vacform_check(&f->vac)) != NULL) {
		set_error(f, 409, xstrdup(why));
		return;
	}
	size_t len;
	char *text = vacform_script(&f->vac, &len), *msg = NULL;
	if (len > (size_t)j->srv->cfg->managesieve.max_script_size) {
		set_error(f, 413, xasprintf("The reply makes a script of %zu bytes, more than the %d a script may have: "
		                            "shorten the message.", len, j->srv->cfg->managesieve.max_script_size));
	} else if (sieve_upload_check(text, len, &msg) == SIEVE_UPLOAD_ERROR) {
		set_error(f, 400, xasprintf("The reply cannot be turned on: its script does not compile (%s).", msg));
	} else {
		sievestore_status st = sievestore_put(dir, VACFORM_SCRIPT, text, len, j->srv->cfg->managesieve.max_scripts);
		if (st == SIEVESTORE_OK)
			st = sievestore_activate(dir, VACFORM_SCRIPT);
		log_op(j, "vacation_on", f->vac.include, st == SIEVESTORE_OK ? "ok" : "error");
		if (st == SIEVESTORE_MAXSCRIPTS)
			set_error(f, 409, xasprintf("You have as many scripts as an account may keep (%d): delete one first.",
			                            j->srv->cfg->managesieve.max_scripts));
		else if (st != SIEVESTORE_OK)
			store_failed(j, "store the vacation script");
		else
			f->notice = f->vac.include != NULL
			          ? xasprintf("The vacation reply is on; your filters \"%s\" go on working after it.", f->vac.include)
			          : xstrdup("The vacation reply is on.");
	}
	free(msg);
	free(text);
}

/* Turning it off: the script it included is active again, or none.  A
 * script of the user's own named "vacation" is not the form's to stop. */
static void vacation_off(filters_job *f, const char *dir, const sievestore_script *active, const vacform *old)
{
	if (active == NULL || strcmp(active->name, VACFORM_SCRIPT) != 0 || f->vac_foreign) {
		f->notice = xstrdup("The vacation reply is off.");
		return;
	}
	const char *back = old->include != NULL && have_script(f, old->include) ? old->include : NULL;
	activate(f, dir, back);
	free(f->notice);
	f->notice = back != NULL ? xasprintf("The vacation reply is off; your filters \"%s\" are active again.", back)
	          : f->base.err == NULL ? xstrdup("The vacation reply is off.") : NULL;
}

static void vacation(filters_job *f, const char *dir)
{
	vacform old;
	vacform_init(&old);
	bool ours;
	if (!read_vacation(f, dir, &ours, &old)) {
		store_failed(&f->base, "read the vacation script");
	} else if (f->vac_foreign && f->vac_asked) {
		set_error(f, 409, xstrdup("You have a script of your own named \"vacation\": rename or delete it "
		                          "before the form can make one."));
	} else if (f->vac_asked) {
		vacation_on(f, dir, active_script(f), &old);
	} else {
		vacation_off(f, dir, active_script(f), &old);
	}
	vacform_free(&old);
}

static bool list_scripts(filters_job *f, const char *dir)
{
	sievestore_scripts_free(&f->list, f->n);
	f->n = 0;
	if (sievestore_list(dir, &f->list, &f->n) == SIEVESTORE_OK)
		return true;
	store_failed(&f->base, "list the scripts");
	return false;
}

/* What the page shows after the operation: the list, the form's state,
 * the script in the editor. */
static void read_state(filters_job *f, const char *dir)
{
	if (!list_scripts(f, dir))
		return;
	const sievestore_script *active = active_script(f);
	vacform stored;
	vacform_init(&stored);
	bool ours;
	if (!read_vacation(f, dir, &ours, &stored))
		store_failed(&f->base, "read the vacation script");
	f->vac_ours = ours;
	f->vac_on = ours && active != NULL && strcmp(active->name, VACFORM_SCRIPT) == 0;
	if (!f->vac_typed || f->base.status == 200) { /* else the form shows what was typed */
		vacform_free(&f->vac);
		f->vac = stored;
	} else {
		vacform_free(&stored);
	}
	if (f->op != OP_SHOW || f->name == NULL)
		return;
	size_t len;
	sievestore_status st = sievestore_get(dir, f->name, (size_t)f->base.srv->cfg->managesieve.max_script_size,
	                                          &f->text, &len);
	f->editing = st == SIEVESTORE_OK;
	if (st == SIEVESTORE_NONEXISTENT)
		set_error(f, 404, xstrdup("You have no script of that name."));
	else if (st != SIEVESTORE_OK)
		store_failed(&f->base, "read a script");
}

static void work(web_job *j)
{
	filters_job *f = (filters_job *)j;
	char *dir = scripts_dir(j);
	from_choices(f);
	if (f->refused)
		;
	else if (f->op == OP_SAVE)
		save(f, dir);
	else if (f->op == OP_ACTIVATE || f->op == OP_DEACTIVATE)
		activate(f, dir, f->op == OP_ACTIVATE ? f->name : NULL);
	else if (f->op == OP_DELETE)
		delete_script(f, dir);
	else if (f->op == OP_VACATION && list_scripts(f, dir))
		vacation(f, dir);
	if (j->err == NULL)
		read_state(f, dir);
	free(dir);
}

/* ---- on the loop ---- */

static void script_row(buf *out, const sievestore_script *s, const char *csrf, bool form_owned)
{
	html_printf(out, "<tr><td class=\"mono\"><a href=\"" PATH "?edit=");
	html_url_value(out, s->name);
	html_printf(out, "\">%s</a>", s->name);
	if (form_owned)
		BUF_PUTS(out, " <a class=\"muted\" href=\"#vacation\">(the vacation form's)</a>");
	html_printf(out, "</td><td>%zu bytes</td><td>", s->size);
	BUF_PUTS(out, s->active ? "<span class=\"state active\">active</span>" : "<span class=\"muted\">inactive</span>");
	BUF_PUTS(out, "</td><td class=\"actions\">");
	const char *action = s->active ? PATH "/deactivate" : PATH "/activate";
	html_printf(out, "<form method=\"post\" action=\"%s\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" "
	            "value=\"%s\"><input type=\"hidden\" name=\"name\" value=\"%s\"><button type=\"submit\">%s</button>"
	            "</form>", action, csrf, s->name, s->active ? "Deactivate" : "Activate");
	if (!s->active)
		html_printf(out, "<form method=\"post\" action=\"" PATH "/delete\" class=\"inline\"><input type=\"hidden\" "
		            "name=\"csrf\" value=\"%s\"><input type=\"hidden\" name=\"name\" value=\"%s\">"
		            "<button type=\"submit\" class=\"danger\">Delete</button></form>", csrf, s->name);
	BUF_PUTS(out, "</td></tr>\n");
}

static void scripts_section(buf *out, const filters_job *f)
{
	const config *cfg = f->base.srv->cfg;
	BUF_PUTS(out, "<h2>Your scripts</h2>\n");
	if (f->n == 0) {
		BUF_PUTS(out, "<p class=\"muted\" id=\"no-scripts\">You have no scripts: all mail goes to the inbox.</p>\n");
	} else {
		BUF_PUTS(out, "<table class=\"scripts\"><thead><tr><th>Name</th><th>Size</th><th>State</th><th></th>"
		         "</tr></thead><tbody>\n");
		for (size_t i = 0; i < f->n; i++)
			script_row(out, &f->list[i], f->base.csrf,
			           f->vac_ours && strcmp(f->list[i].name, VACFORM_SCRIPT) == 0);
		BUF_PUTS(out, "</tbody></table>\n");
	}
	html_printf(out, "<p class=\"muted\">At most %d scripts of %d bytes each; one of them is active at a time. "
	            "Mail programs with ManageSieve see the same scripts.</p>\n",
	            cfg->managesieve.max_scripts, cfg->managesieve.max_script_size);
}

/* The line the compiler stopped at, with a caret under the column
 * (columns count characters; tabs are kept so the caret lines up). */
static void error_excerpt(buf *out, const char *text, unsigned line, unsigned col)
{
	const char *p = text;
	for (unsigned l = 1; l < line && p != NULL; l++)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	if (p == NULL || line == 0 || col == 0)
		return;
	size_t n = strcspn(p, "\r\n");
	BUF_PUTS(out, "<pre class=\"errline mono\" id=\"error-line\">");
	html_textn(out, p, n);
	BUF_PUTC(out, '\n');
	unsigned c = 1;
	for (size_t i = 0; i < n && c < col; i++) {
		if (((unsigned char)p[i] & 0xC0) == 0x80)
			continue; /* a UTF-8 continuation octet: same character */
		BUF_PUTC(out, p[i] == '\t' ? '\t' : ' ');
		c++;
	}
	BUF_PUTS(out, "^</pre>\n");
}

/* Text for a textarea: line ends as LF (what the HTML parser makes of a
 * CRLF anyway; a browser sends CRLF back), the rest escaped. */
static void textarea_text(buf *out, const char *s)
{
	while (*s != '\0') {
		size_t n = strcspn(s, "\r");
		html_textn(out, s, n);
		s += n;
		if (*s == '\r') {
			BUF_PUTC(out, '\n');
			s += s[1] == '\n' ? 2 : 1;
		}
	}
}

static void editor_section(buf *out, const filters_job *f)
{
	const config *cfg = f->base.srv->cfg;
	bool named = f->name != NULL && (f->editing || f->op == OP_SAVE);
	if (named)
		html_printf(out, "<h2 id=\"editor\">Edit \"%s\"</h2>\n<p><a href=\"" PATH "\">New script</a></p>\n", f->name);
	else
		BUF_PUTS(out, "<h2 id=\"editor\">New script</h2>\n");
	if (f->compile_error != NULL) {
		html_printf(out, "<p class=\"error\" role=\"alert\" id=\"compile-error\">Not saved: line %u, column %u: "
		            "%s</p>\n", f->err_line, f->err_col, f->compile_error);
		error_excerpt(out, f->text != NULL ? f->text : "", f->err_line, f->err_col);
	}
	html_printf(out, "<form class=\"account wide\" method=\"post\" action=\"" PATH "/save\">"
	            "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><label>Name<input type=\"text\" name=\"name\" "
	            "required maxlength=\"%d\" value=\"%s\"></label>", f->base.csrf, SIEVESTORE_NAME_MAX,
	            named ? f->name : "");
	/* the newline after <textarea> is dropped by the browser: one that
	 * starts the script itself survives */
	html_printf(out, "<label>Script (Sieve, RFC 5228)<textarea name=\"script\" rows=\"18\" spellcheck=\"false\" "
	            "maxlength=\"%d\">\n", cfg->managesieve.max_script_size);
	if (f->text != NULL && (f->editing || f->op == OP_SAVE))
		textarea_text(out, f->text);
	BUF_PUTS(out, "</textarea></label><p class=\"muted\">Saving under another name keeps the old script. "
	         "A script that does not compile is not saved.</p><button type=\"submit\" class=\"primary\">Save"
	         "</button></form>\n");
}

static void from_select(buf *out, const filters_job *f)
{
	BUF_PUTS(out, "<label>Send the reply from<select name=\"from\"><option value=\"\">");
	html_printf(out, "%s (your address)</option>", f->base.user);
	for (size_t i = 0; i < f->from_choices.n; i++) {
		const char *a = f->from_choices.items[i];
		if (strcmp(a, f->base.user) == 0)
			continue;
		bool sel = f->vac.from != NULL && strcasecmp(f->vac.from, a) == 0;
		html_printf(out, sel ? "<option selected value=\"%s\">%s</option>" : "<option value=\"%s\">%s</option>", a, a);
	}
	BUF_PUTS(out, "</select></label>");
}

static void vacation_section(buf *out, const filters_job *f)
{
	const vacform *v = &f->vac;
	BUF_PUTS(out, "<h2 id=\"vacation\">Vacation reply</h2>\n");
	html_printf(out, "<p id=\"vacation-state\">The vacation reply is <strong>%s</strong>. It answers each sender "
	            "at most once in the days you choose, never mailing lists or automatic mail; your other "
	            "filters go on working while it is on.</p>\n", f->vac_on ? "on" : "off");
	if (f->vac_foreign)
		BUF_PUTS(out, "<p class=\"muted\">You have a script of your own named \"vacation\": the form cannot use "
		         "that name until you rename or delete it.</p>\n");
	html_printf(out, "<form class=\"account wide\" method=\"post\" action=\"/account/vacation\">"
	            "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><label class=\"check\"><input type=\"checkbox\" "
	            "name=\"on\" value=\"1\"%s> Answer incoming mail automatically</label>", f->base.csrf,
	            (f->vac_typed && f->base.status != 200 ? f->vac_asked : f->vac_on) ? " checked" : "");
	html_printf(out, "<label>Subject (empty: \"Auto: \" and the message's subject)<input type=\"text\" "
	            "name=\"subject\" maxlength=\"%d\" value=\"%s\"></label>", VACFORM_SUBJECT_MAX,
	            v->subject != NULL ? v->subject : "");
	BUF_PUTS(out, "<label>Message<textarea name=\"message\" rows=\"7\">\n");
	if (v->message != NULL)
		textarea_text(out, v->message);
	html_printf(out, "</textarea></label><label>Days before the same sender is answered again (1 to 365)"
	            "<input type=\"number\" name=\"days\" min=\"1\" max=\"365\" value=\"%d\"></label>", v->days);
	from_select(out, f);
	BUF_PUTS(out, "<label>Your other addresses, whose mail is answered too (one a line)<textarea name=\"addresses\" "
	         "rows=\"3\">\n");
	for (size_t i = 0; i < v->addresses.n; i++)
		html_printf(out, "%s\n", v->addresses.items[i]);
	BUF_PUTS(out, "</textarea></label><button type=\"submit\" class=\"primary\">Save the vacation reply</button>"
	         "</form>\n");
}

static void render(web_job *j, buf *out)
{
	filters_job *f = (filters_job *)j;
	if (f->error != NULL)
		html_printf(out, "<p class=\"error\" role=\"alert\" id=\"page-error\">%s</p>\n", f->error);
	if (f->notice != NULL)
		html_printf(out, "<p class=\"notice\" role=\"status\" id=\"page-notice\">%s</p>\n", f->notice);
	BUF_PUTS(out, "<p>Filters sort the mail that arrives for you: into folders, forwarded, refused or answered. "
	         "They are written in the Sieve language (RFC 5228). <a href=\"/account\">Back to my account</a></p>\n");
	scripts_section(out, f);
	editor_section(out, f);
	vacation_section(out, f);
}

static void job_free(web_job *j)
{
	filters_job *f = (filters_job *)j;
	free(f->name);
	free(f->text);
	free(f->compile_error);
	free(f->notice);
	free(f->error);
	vacform_free(&f->vac);
	strlist_free(&f->from_choices);
	sievestore_scripts_free(&f->list, f->n);
}

static filters_job *job_new(filters_op op)
{
	filters_job *f = xcalloc(1, sizeof(*f));
	f->op = op;
	vacform_init(&f->vac);
	strlist_init(&f->from_choices);
	f->base.work = work;
	f->base.render = render;
	f->base.free = job_free;
	return f;
}

static void start(filters_job *f, http_req *r)
{
	web_job_start(&f->base, r, TITLE, PATH);
}

/* The page with an error about the form just sent, nothing changed. */
static void refuse(http_req *r, filters_job *f, int status, const char *text)
{
	f->base.status = status;
	f->error = xstrdup(text);
	f->refused = true;
	start(f, r);
}

void web_get_filters(http_req *r)
{
	filters_job *f = job_new(OP_SHOW);
	const char *edit = http_req_query(r, "edit");
	if (edit != NULL && edit[0] != '\0')
		f->name = xstrdup(edit);
	start(f, r);
}

/* A script name from the form, by ManageSieve's rules; NULL after
 * answering when it is not one. */
static const char *form_name(http_req *r, filters_job *f)
{
	const char *name = http_req_form(r, "name"), *why = NULL;
	if (name == NULL || !sievestore_name_valid(name, strlen(name), &why)) {
		refuse(r, f, 400, why != NULL ? why : "Give the script a name.");
		return NULL;
	}
	return name;
}

void web_post_filters_save(http_req *r)
{
	filters_job *f = job_new(OP_SAVE);
	const char *text = http_req_form(r, "script");
	f->text = xstrdup(text != NULL ? text : "");
	const char *name = http_req_form(r, "name");
	f->name = xstrdup(name != NULL ? name : "");
	int max = http_req_server(r)->cfg->managesieve.max_script_size;
	const char *why = NULL;
	if (!sievestore_name_valid(f->name, strlen(f->name), &why)) {
		refuse(r, f, 400, why);
	} else if (text == NULL) { /* absent, or dropped by the form parser for a NUL (%00) */
		refuse(r, f, 400, "The script's text is missing or holds a NUL character: not saved.");
	} else if (strlen(f->text) > (size_t)max) {
		char *msg = xasprintf("The script has %zu bytes, more than the %d a script may have: not saved.",
		                      strlen(f->text), max);
		refuse(r, f, 413, msg);
		free(msg);
	} else {
		start(f, r);
	}
}

static void post_named(http_req *r, filters_op op)
{
	filters_job *f = job_new(op);
	const char *name = form_name(r, f);
	if (name != NULL) {
		f->name = xstrdup(name);
		start(f, r);
	}
}

void web_post_filters_activate(http_req *r)
{
	post_named(r, OP_ACTIVATE);
}

void web_post_filters_delete(http_req *r)
{
	post_named(r, OP_DELETE);
}

void web_post_filters_deactivate(http_req *r)
{
	start(job_new(OP_DEACTIVATE), r);
}

void web_post_vacation(http_req *r)
{
	filters_job *f = job_new(OP_VACATION);
	const char *on = http_req_form(r, "on"), *subject = http_req_form(r, "subject");
	const char *message = http_req_form(r, "message"), *from = http_req_form(r, "from");
	f->vac_asked = on != NULL && strcmp(on, "1") == 0;
	f->vac_typed = true;
	f->vac.subject = subject != NULL && subject[0] != '\0' ? xstrdup(subject) : NULL;
	f->vac.message = xstrdup(message != NULL ? message : "");
	f->vac.from = from != NULL && from[0] != '\0' ? xstrdup(from) : NULL;
	const char *why = vacform_parse_days(http_req_form(r, "days"), &f->vac.days);
	if (why == NULL)
		why = vacform_parse_addresses(http_req_form(r, "addresses"), &f->vac.addresses);
	if (why != NULL && f->vac_asked)
		refuse(r, f, 400, why);
	else
		start(f, r);
}
