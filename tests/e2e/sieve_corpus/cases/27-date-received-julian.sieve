require ["date", "fileinto", "variables"];
if date :matches "received" "julian" "*" { fileinto "J${1}"; }
if date :matches "date" "std11" "*" { set "s" "${1}"; }
if string :is "${s}" "Tue, 03 Mar 2026 01:00:00 +0000" { fileinto "Std11"; }
