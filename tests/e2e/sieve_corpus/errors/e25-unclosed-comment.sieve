require "fileinto";
keep;
/* this comment
   never ends
