# case: message=auto.eml from=MAILER-DAEMON@mx.example.net to=bob@example.org
require ["fileinto", "envelope", "imap4flags"];
if envelope :localpart :is "from" "mailer-daemon" { addflag "\\Seen"; fileinto "Bounces"; }
