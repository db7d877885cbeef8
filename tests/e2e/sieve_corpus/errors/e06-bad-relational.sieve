require "relational";
if header :value "gg" "subject" "a" { keep; }
