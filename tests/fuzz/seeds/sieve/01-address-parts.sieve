# case: message=plain.eml
require "fileinto";
if address :is :localpart "from" "alice" { fileinto "ByLocal"; }
if address :is :domain "cc" "example.org" { fileinto "CcDomain"; }
if address :is :all "to" "carol@example.net" { fileinto "ToCarol"; }
if address :is "from" "Alice Example" { fileinto "Wrong"; }
