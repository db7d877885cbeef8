require "fileinto";
discard;
keep;
fileinto "After";
