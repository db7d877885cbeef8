require "fileinto";
keep;
fileinto "A" :copy;
