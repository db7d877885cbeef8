require ["fileinto", "variables"];
if header :matches "subject" "QUARTERLY * FOR ?1" { fileinto "M-${1}-${2}"; }
if header :matches "from" "*<*@*.*>" { fileinto "${1}|${2}|${3}|${4}"; }
if header :matches "subject" "*?*" { fileinto "Q-${1}-${2}-${3}"; }
if header :matches ["x-none", "subject"] ["nomatch*", "*rt*"] { fileinto "L-${1}-${2}"; }
