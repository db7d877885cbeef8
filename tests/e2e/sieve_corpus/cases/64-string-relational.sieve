require ["fileinto", "variables", "relational", "comparator-i;ascii-numeric"];
set "n" "042";
if string :value "eq" :comparator "i;ascii-numeric" "${n}" "42" { fileinto "Eq42"; }
if string :value "gt" :comparator "i;octet" "b" "a" { fileinto "BgtA"; }
if string :count "ge" :comparator "i;ascii-numeric" ["x", "y", "z"] "3" { fileinto "Three"; }
