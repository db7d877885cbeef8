require ["fileinto", "relational", "comparator-i;ascii-numeric", "envelope"];
if envelope :count "eq" :comparator "i;ascii-numeric" "from" "1" { fileinto "EnvCount1"; }
if header :count "eq" :comparator "i;ascii-numeric" ["x-n", "subject"] "4" { fileinto "HdrCount4"; }
if exists "x-n" { fileinto "XN"; }
if header :value "ge" :comparator "i;ascii-numeric" "x-n" "0" { fileinto "TextInfinite"; }
