require ["date", "fileinto", "variables"];
if date :matches "date" "iso8601" "*" { fileinto "${1}"; }
if date :originalzone :matches "date" "iso8601" "*" { fileinto "${1}"; }
if date :zone "-0330" :matches "date" "std11" "*" { fileinto "${1}"; }
if date :zone "+0000" :matches "date" "julian" "*" { fileinto "J${1}"; }
