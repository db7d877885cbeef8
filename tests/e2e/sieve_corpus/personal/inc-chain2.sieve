require ["include", "variables"];
global ["a", "b"];
set "b" "${a}3";
