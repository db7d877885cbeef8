require "fileinto";
keep;
elsif true { keep; }
