/* mobileconfig.c — the Apple configuration profile (an XML property list
 * with one com.apple.mail.managed payload, Apple's "Mail" and "TopLevel"
 * device-management keys) that sets up Mail on iOS and macOS for one
 * account.  Unsigned (devices install it, marked "Not Signed"); it never
 * carries a password.  Which endpoints exist is offer.c's. */
#include "autoconf/autoconf.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static void key_string(buf *out, const char *key, const char *value)
{
	BUF_PRINTF(out, "\t\t\t<key>%s</key>\n\t\t\t<string>", key);
	autoconf_xml_text(out, value);
	BUF_PUTS(out, "</string>\n");
}

static void key_int(buf *out, const char *key, int value)
{
	BUF_PRINTF(out, "\t\t\t<key>%s</key>\n\t\t\t<integer>%d</integer>\n", key, value);
}

static void key_bool(buf *out, const char *key, bool value)
{
	BUF_PRINTF(out, "\t\t\t<key>%s</key>\n\t\t\t<%s/>\n", key, value ? "true" : "false");
}

/* The stable identifier of address's profile on this host: the host name
 * reversed ("org.example.mail"), ".yubin.", and 16 hex digits of the
 * address's SHA-256 (the address itself need not show in it).  Installing
 * a profile with the same identifier replaces the earlier one. */
static char *profile_id(const char *hostname, const char *address)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	const char *end = hostname + strlen(hostname);
	while (end > hostname) {
		const char *dot = end;
		while (dot > hostname && dot[-1] != '.')
			dot--;
		if (end > dot)
			BUF_PRINTF(&b, "%s%.*s", b.len ? "." : "", (int)(end - dot), dot);
		end = dot > hostname ? dot - 1 : hostname;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(address, strlen(address), md, &n, EVP_sha256(), NULL) != 1 || n < 8)
		abort(); /* SHA-256 is always there in OpenSSL 3: a broken library */
	BUF_PUTS(&b, ".yubin.");
	for (int i = 0; i < 8; i++)
		BUF_PRINTF(&b, "%02x", md[i]);
	return buf_steal(&b);
}

static void mail_payload(buf *out, const autoconf_offer *o, const char *address, const char *id,
                         const char *uuid, const autoconf_endpoint *in, const autoconf_endpoint *smtp)
{
	BUF_PUTS(out, "\t\t<dict>\n");
	key_string(out, "EmailAccountDescription", address);
	key_string(out, "EmailAccountType", in->proto == AUTOCONF_IMAP ? "EmailTypeIMAP" : "EmailTypePOP");
	key_string(out, "EmailAddress", address);
	key_string(out, "IncomingMailServerAuthentication", "EmailAuthPassword");
	key_string(out, "IncomingMailServerHostName", o->hostname);
	key_int(out, "IncomingMailServerPortNumber", in->port);
	/* a boolean: Apple tells implicit TLS from STARTTLS by the port */
	key_bool(out, "IncomingMailServerUseSSL", true);
	key_string(out, "IncomingMailServerUsername", address);
	key_string(out, "OutgoingMailServerAuthentication", "EmailAuthPassword");
	key_string(out, "OutgoingMailServerHostName", o->hostname);
	key_int(out, "OutgoingMailServerPortNumber", smtp->port);
	key_bool(out, "OutgoingMailServerUseSSL", true);
	key_string(out, "OutgoingMailServerUsername", address);
	key_bool(out, "OutgoingPasswordSameAsIncomingPassword", true);
	key_string(out, "PayloadDisplayName", address);
	char *mail_id = xasprintf("%s.email", id);
	key_string(out, "PayloadIdentifier", mail_id);
	free(mail_id);
	key_string(out, "PayloadType", "com.apple.mail.managed");
	key_string(out, "PayloadUUID", uuid);
	key_int(out, "PayloadVersion", 1);
	BUF_PUTS(out, "\t\t</dict>\n");
}

bool autoconf_mobileconfig(const autoconf_offer *o, const char *address, const char *uuid_top,
                           const char *uuid_mail, buf *out)
{
	const autoconf_endpoint *in = autoconf_offer_first(o, AUTOCONF_IMAP);
	if (in == NULL)
		in = autoconf_offer_first(o, AUTOCONF_POP3);
	const autoconf_endpoint *smtp = autoconf_offer_first(o, AUTOCONF_SMTP);
	if (in == NULL || smtp == NULL)
		return false;
	char *id = profile_id(o->hostname, address);
	BUF_PUTS(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	         "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
	         "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n"
	         "\t<key>PayloadContent</key>\n\t<array>\n");
	mail_payload(out, o, address, id, uuid_mail, in, smtp);
	BUF_PUTS(out, "\t</array>\n\t<key>PayloadDescription</key>\n\t<string>Mail settings for ");
	autoconf_xml_text(out, address);
	BUF_PUTS(out, "</string>\n\t<key>PayloadDisplayName</key>\n\t<string>");
	autoconf_xml_text(out, address);
	BUF_PUTS(out, "</string>\n\t<key>PayloadIdentifier</key>\n\t<string>");
	autoconf_xml_text(out, id);
	BUF_PUTS(out, "</string>\n\t<key>PayloadOrganization</key>\n\t<string>");
	autoconf_xml_text(out, o->hostname);
	BUF_PUTS(out, "</string>\n\t<key>PayloadRemovalDisallowed</key>\n\t<false/>\n"
	         "\t<key>PayloadType</key>\n\t<string>Configuration</string>\n\t<key>PayloadUUID</key>\n\t<string>");
	autoconf_xml_text(out, uuid_top);
	BUF_PUTS(out, "</string>\n\t<key>PayloadVersion</key>\n\t<integer>1</integer>\n</dict>\n</plist>\n");
	free(id);
	return true;
}
