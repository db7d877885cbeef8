require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if address :count "eq" :comparator "i;ascii-numeric" "to" "2" { fileinto "TwoTo"; }
if header :count "ge" :comparator "i;ascii-numeric" "x-n" "3" { fileinto "ThreeXN"; }
if header :value "lt" "subject" "R" { fileinto "SubjectBeforeR"; }
if address :count "gt" :comparator "i;ascii-numeric" ["to", "cc"] "3" { fileinto "Wrong"; }
