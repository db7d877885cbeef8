require ["fileinto", "variables", "relational", "comparator-i;ascii-numeric"];
if string :count "eq" :comparator "i;ascii-numeric" ["a", "", "b"] "2" { fileinto "Count2"; }
if header :contains :comparator "i;octet" "subject" "quarterly" { fileinto "OctetWrong"; }
if header :contains :comparator "i;octet" "subject" "Quarterly" { fileinto "Octet"; }
set :upperfirst "x" "abc";
set :lower :upperfirst "y" "ABC";
fileinto "${x}-${y}";
