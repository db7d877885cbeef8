if header :comparator "i;nope" "subject" "a" { keep; }
