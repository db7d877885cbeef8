if header :contains "subject" "quarterly" { discard; }
