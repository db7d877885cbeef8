require ["reject", "variables"];
if header :matches "subject" "*" { set "s" "${1}"; }
reject "Refused: ${s}";
