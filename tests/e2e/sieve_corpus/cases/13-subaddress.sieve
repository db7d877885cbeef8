require ["fileinto", "subaddress", "envelope"];
if envelope :detail "to" "lists" { fileinto "DetailLists"; }
if envelope :user "to" "bob" { fileinto "UserBob"; }
if address :detail :matches "cc" "*" { fileinto "Wrong"; }
if address :user "to" "carol" { fileinto "UserCarol"; }
