/* thunderbird.c — the Thunderbird autoconfig document (config-v1.1.xml,
 * Mozilla's "Autoconfiguration ConfigFileFormat", also served for the
 * draft's mail-v1.xml): every IMAP, POP3 and submission endpoint the
 * server offers, the preferred first.  Owns the document's shape only;
 * which endpoints exist is offer.c's. */
#include "autoconf/autoconf.h"

static const char *const type_names[] = {"imap", "pop3", "smtp"};

static void server_element(buf *out, const autoconf_offer *o, const autoconf_endpoint *e,
                           const char *user)
{
	const char *tag = e->proto == AUTOCONF_SMTP ? "outgoingServer" : "incomingServer";
	BUF_PRINTF(out, "    <%s type=\"%s\">\n      <hostname>", tag, type_names[e->proto]);
	autoconf_xml_text(out, o->hostname);
	BUF_PRINTF(out, "</hostname>\n      <port>%d</port>\n      <socketType>%s</socketType>\n"
	           "      <username>", e->port, e->implicit_tls ? "SSL" : "STARTTLS");
	autoconf_xml_text(out, user);
	/* PLAIN / LOGIN, USER/PASS: the only mechanisms offered, always inside TLS */
	BUF_PUTS(out, "</username>\n      <authentication>password-cleartext</authentication>\n");
	if (e->proto == AUTOCONF_POP3)
		BUF_PUTS(out, "      <pop3>\n        <leaveMessagesOnServer>true</leaveMessagesOnServer>\n"
		         "      </pop3>\n");
	BUF_PRINTF(out, "    </%s>\n", tag);
}

void autoconf_thunderbird(const autoconf_offer *o, const char *domain, const char *address, buf *out)
{
	const char *user = address ? address : "%EMAILADDRESS%";
	BUF_PUTS(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n"
	         "  <emailProvider id=\"");
	autoconf_xml_text(out, domain);
	BUF_PUTS(out, "\">\n    <domain>");
	autoconf_xml_text(out, domain);
	BUF_PUTS(out, "</domain>\n    <displayName>");
	autoconf_xml_text(out, domain);
	BUF_PUTS(out, " mail</displayName>\n    <displayShortName>");
	autoconf_xml_text(out, domain);
	BUF_PUTS(out, "</displayShortName>\n");
	/* incoming servers first (the format's order), each kind's preferred first */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < o->n; i++)
			if ((o->v[i].proto == AUTOCONF_SMTP) == (pass == 1))
				server_element(out, o, &o->v[i], user);
	BUF_PUTS(out, "  </emailProvider>\n</clientConfig>\n");
}
