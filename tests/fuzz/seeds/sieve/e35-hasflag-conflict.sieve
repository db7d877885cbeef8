require "imap4flags";
if hasflag :comparator "i;octet" :is :contains "x" { keep; }
