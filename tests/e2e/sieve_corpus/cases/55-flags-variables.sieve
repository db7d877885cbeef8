require ["imap4flags", "variables", "fileinto"];
set "f" "";
addflag "f" ["$Label1", "\\Answered"];
addflag "f" "$label1";
fileinto :flags "${f}" "FromVar";
setflag "f" "new";
if hasflag "f" "NEW" { fileinto "HasNew"; }
removeflag "f" "new";
if not hasflag "f" "new" { fileinto "Removed"; }
