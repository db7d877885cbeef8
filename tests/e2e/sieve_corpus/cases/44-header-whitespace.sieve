# case: message=odd.eml
require ["fileinto", "variables"];
if header :is "x-folded" "one two three" { fileinto "Unfolded"; }
if header :is "x-spaces" "padded" { fileinto "Trimmed"; }
if header :is "x-empty" "" { fileinto "Empty"; }
if exists "X-EMPTY" { fileinto "ExistsEmpty"; }
if header :matches "x-folded" "* *" { fileinto "${2}"; }
