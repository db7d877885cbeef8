/* verdict.h — what filters' answers say, in a form the policy layer uses:
 * an SMFIR_REPLYCODE reply split into code, enhanced status and text
 * lines; the spam score rspamd (and SpamAssassin-style filters) write in
 * the header fields they add; the virus name clamav-milter writes.  Pure
 * string work: smtp/pol_milter.c feeds it. */
#ifndef YUBIN_MILTER_VERDICT_H
#define YUBIN_MILTER_VERDICT_H

#include <stdbool.h>

/* Split a reply checked by milter_replycode_valid ("550-5.7.1 a\r\n550
 * 5.7.1 b") into its code, its enhanced status (malloc'd, NULL when the
 * first line has none) and its text lines joined by LF (malloc'd). */
void milter_reply_split(const char *reply, int *code_r, char **status_r, char **text_r);

/* A spam score in a header field a filter added: X-Spamd-Result
 * ("default: True [12.30 / 15.00]; ..."), X-Rspamd-Score / X-Spam-Score
 * ("12.30"), X-Spam-Status ("Yes, score=12.3 ...").  False when the field
 * is none of these or carries no number. */
bool milter_spam_score(const char *name, const char *value, double *score_r);

/* A virus verdict in X-Virus-Status ("Infected (Eicar-Test-Signature)",
 * "Clean"): the name (malloc'd; "" for clean), or NULL when the field is
 * not one. */
char *milter_virus_name(const char *name, const char *value);

#endif
