require ["include", "variables", "fileinto"];
global "dest";
fileinto "Inc-${dest}";
set "dest" "FromInc";
