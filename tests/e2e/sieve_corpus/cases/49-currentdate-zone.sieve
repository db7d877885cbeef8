require ["date", "fileinto", "relational"];
if currentdate :zone "+1400" :value "ge" "date" "2020-01-01" { fileinto "Ahead"; }
if currentdate :is "zone" "+0000" { fileinto "LocalUTC"; }
if currentdate :zone "-0330" :is "zone" "-0330" { fileinto "GivenZone"; }
if date :zone "+0530" :is "date" "time" "06:30:00" { fileinto "IST"; }
if date :is "received" "year" "2026" { fileinto "Received"; }
if date :zone "CET" :is "date" "year" "2026" { fileinto "BadZone"; }
