require "fileinto";
if allof (header :contains "from" "alice", not exists "x-missing") { fileinto "AllOf"; }
if anyof (false, header :contains "subject" "nothing", true) { fileinto "AnyOf"; }
if not anyof (false, false) { fileinto "NotAnyOf"; }
if allof (true, false) { fileinto "Wrong"; }
