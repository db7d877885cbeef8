require ["fileinto", "variables"];
if header :matches ["X-N", "x-n"] "s*" { fileinto "XN-${1}"; }
if header :is "SUBJECT" "quarterly report for q1" { fileinto "UpperName"; }
if address :is :all ["TO", "cC"] "DAVE@example.org" { fileinto "CcUpper"; }
if header :contains "received" "4AB12" { fileinto "ReceivedFolded"; }
