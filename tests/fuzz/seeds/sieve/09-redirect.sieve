require "copy";
redirect "archive@example.net";
redirect "archive@example.net";
redirect :copy "audit@example.net";
