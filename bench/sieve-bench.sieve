# sieve-bench.sieve: the 20-rule personal script of bench/sieve.sh, active
# for every recipient in both yubin and Dovecot LDA + Pigeonhole.  The
# sort of filing a user builds up over the years: an upstream spam verdict,
# mailing lists, notifications, invoices, people who matter.  Only
# extensions both implementations have; no redirect or vacation (they would
# send mail, which is not what is measured); every fileinto uses :create so
# that the first message into a folder makes it on either server.
require ["fileinto", "envelope", "imap4flags", "body", "mailbox", "copy",
         "relational", "comparator-i;ascii-numeric"];

# 1. An upstream filter's verdict.
if header :is "X-Spam-Flag" "YES" {
  fileinto :create "Junk";
  stop;
}
# 2. A high score without the flag.
if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "8" {
  fileinto :create "Junk";
  stop;
}
# 3. Bounces and postmaster traffic, by envelope sender.
if envelope :localpart :is "from" ["mailer-daemon", "postmaster"] {
  fileinto :create "Bounces";
  stop;
}
# 4. Messages that lack what every real mail has.
if not exists ["From", "Date"] {
  fileinto :create "Junk";
  stop;
}
# 5. The development list.
if header :contains "List-Id" "<dev.lists.example>" {
  fileinto :create "dev-list";
  stop;
}
# 6. Any announce list.
if header :matches "List-Id" "*<announce.*>" {
  fileinto :create "Announce";
  stop;
}
# 7. Code review notifications, read later.
if address :domain :is "from" "git.example" {
  fileinto :create :flags "\\Seen" "Notifications";
  stop;
}
# 8. The ticket tracker.
if header :matches "Subject" "[TICKET-*]*" {
  fileinto :create "Tickets";
  stop;
}
# 9. Invoices go to the archive and stay in the inbox.
if header :contains "Subject" ["invoice", "receipt"] {
  fileinto :copy :create "Invoices";
}
# 10. People who matter are flagged, wherever they write from.
if address :is "from" ["boss@bench.test", "ceo@partner.example"] {
  addflag "\\Flagged";
}
# 11. Big attachments.
if size :over 40K {
  fileinto :create "Large";
  stop;
}
# 12. Newsletters say how to leave them.
if body :contains "unsubscribe" {
  fileinto :create "Newsletters";
  stop;
}
# 13. Bulk senders.
if header :is "Precedence" ["bulk", "junk"] {
  fileinto :create "Bulk";
  stop;
}
# 14. Machine-made mail.
if header :is "Auto-Submitted" "auto-generated" {
  fileinto :create "Automated";
  stop;
}
# 15. Mail to the team alias.
if address :all :is ["to", "cc"] "team@bench.test" {
  fileinto :create "Team";
  stop;
}
# 16. Urgent is urgent.
if header :contains "Subject" "URGENT" {
  addflag "\\Flagged";
}
# 17. Out-of-office replies, filed as read.
if header :contains "Subject" ["out of office", "automatic reply"] {
  fileinto :create :flags "\\Seen" "Auto-replies";
  stop;
}
# 18. Calendar invitations.
if address :domain :is "from" "calendar.example" {
  fileinto :create "Calendar";
  stop;
}
# 19. A mailer that only marketing uses.
if header :contains "X-Mailer" "MassMailer" {
  fileinto :create "Bulk";
  stop;
}
# 20. Mail from outside the company gets a label (most mail).
if not address :domain :is "from" ["bench.test", "partner.example"] {
  addflag "$External";
}
