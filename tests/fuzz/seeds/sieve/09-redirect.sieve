require "copy";
redirect "archive@example.net";
redirect "archive@example.net";
redirect :copy "audit@example.net";
redirect "Forward Box <fwd@example.net>";
redirect "<angle@example.net>";
