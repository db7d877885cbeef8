require ["date", "fileinto", "relational"];
if date :is "date" "year" "2026" { fileinto "Year"; }
if date :is "date" "hour" "01" { fileinto "HourUTC"; }
if date :originalzone :is "date" "hour" "10" { fileinto "HourOriginal"; }
if date :zone "-0500" :is "date" "date" "2026-03-02" { fileinto "ZoneDate"; }
if date :is "date" "weekday" "2" { fileinto "Tuesday"; }
if date :is "date" "zone" "+0000" { fileinto "ZoneLocal"; }
if date :originalzone :is "date" "zone" "+0900" { fileinto "ZoneOriginal"; }
if date :is "date" "time" "01:00:00" { fileinto "Time"; }
if currentdate :value "ge" "year" "2024" { fileinto "Current"; }
if date :is "date" "fortnight" "1" { fileinto "WrongPart"; }
