require ["include", "variables", "fileinto"];
global ["a", "b"];
set "a" "1";
include "inc-chain1";
fileinto "a${a}-b${b}";
