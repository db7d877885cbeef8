require "fileinto";
if header :contains "subject" "report" { fileinto "Contains"; }
if header :is "subject" "quarterly REPORT for q1" { fileinto "IsCasemap"; }
if header :matches "subject" "Quarterly*Q?" { fileinto "Matches"; }
if header :is :comparator "i;octet" "subject" "quarterly report for q1" { fileinto "OctetWrong"; }
if header :contains ["x-none", "x-priority"] ["9", "2"] { fileinto "Lists"; }
