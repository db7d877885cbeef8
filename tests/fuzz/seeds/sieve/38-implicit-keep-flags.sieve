require ["imap4flags", "copy"];
addflag "\\Flagged";
redirect :copy "copy@example.net";
