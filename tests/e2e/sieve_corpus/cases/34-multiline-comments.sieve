/* a bracket comment
   over lines */ require "fileinto"; # a hash comment
if header :contains "subject" text:
Quarterly
.
{ fileinto "Multi"; }
if header :is "subject" [ "a" , "Quarterly report for Q1" ] { fileinto /* inside */ "ListKey"; }
