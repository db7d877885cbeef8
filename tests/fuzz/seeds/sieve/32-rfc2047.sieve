# case: message=multipart.eml from=juergen@example.de to=bob@example.org
require "fileinto";
if header :contains "subject" "Grüße" { fileinto "Decoded"; }
if address :is "from" "juergen@example.de" { fileinto "Addr"; }
if header :contains "from" "Jürgen" { fileinto "DisplayName"; }
