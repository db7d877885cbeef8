require ["include", "variables"];
global "a";
set "a" "${a}2";
include "inc-chain2";
