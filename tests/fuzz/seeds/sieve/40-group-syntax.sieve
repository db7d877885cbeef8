# case: message=group.eml
require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if address :is "to" "x@example.org" { fileinto "GroupMember"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "3" { fileinto "ThreeAddrs"; }
if address :is :domain "cc" "example.com" { fileinto "CcComment"; }
if header :contains "to" "undisclosed" { fileinto "HeaderRaw"; }
