require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :value "gt" :comparator "i;ascii-numeric" "x-spam-score" "5" { fileinto "Spam"; }
if header :value "lt" :comparator "i;ascii-numeric" "x-spam-score" "100" { fileinto "Below100"; }
if header :is :comparator "i;ascii-numeric" "x-spam-score" "012" { fileinto "Is12"; }
if header :value "gt" :comparator "i;ascii-numeric" "subject" "5" { fileinto "TextIsInfinite"; }
