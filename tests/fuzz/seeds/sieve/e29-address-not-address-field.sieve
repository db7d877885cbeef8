keep;
if address :is ["to",
   "subject"] "x" { keep; }
