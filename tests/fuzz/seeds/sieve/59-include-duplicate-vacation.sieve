require ["include", "vacation"];
vacation "Main away";
include "inc-vacation";
