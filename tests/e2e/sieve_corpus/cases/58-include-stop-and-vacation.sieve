require ["include", "fileinto", "vacation"];
include "inc-vacation";
fileinto "BeforeStop";
include "inc-stop";
fileinto "Unreached";
