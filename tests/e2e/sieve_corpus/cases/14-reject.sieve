require "reject";
if header :contains "subject" "report" { reject "No reports, please."; }
