require ["fileinto", "include"];
if header :contains "subject" "report" { fileinto "Included"; return; }
fileinto "NotReached";
