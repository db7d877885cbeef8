require ["fileinto", "variables"];
if header :matches "subject" "* for *" { fileinto "${1}/${2}"; }
if address :matches "from" "*@*" { fileinto "From-${2}"; }
if header :matches "subject" "Q*rly*" { set "whole" "${0}"; fileinto "Whole-${whole}"; }
