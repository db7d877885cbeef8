require ["include", "variables", "fileinto"];
global "dest";
set "dest" "FromMain";
include "inc-vars";
fileinto "${dest}";
