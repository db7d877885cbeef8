require ["fileinto", "imap4flags"];
setflag "\\Seen Work";
if hasflag "work" { fileinto "HasWork"; }
if hasflag :contains "\\Se" { fileinto "ContainsSe"; }
if hasflag "\\Flagged" { fileinto "Wrong"; }
