# case: message=quoted.eml
require ["fileinto", "subaddress"];
if address :localpart :is "from" "\"john doe\"" { fileinto "QuotedLocal"; }
if address :localpart :is "from" "john doe" { fileinto "Unquoted"; }
if address :user :is "to" "team" { fileinto "TeamUser"; }
if address :detail :is "to" "sales+eu" { fileinto "DetailAll"; }
if address :all :is "from" "\"john doe\"@example.com" { fileinto "AllQuoted"; }
if address :all :is "from" "john doe@example.com" { fileinto "AllUnquoted"; }
