require "fileinto";
fileinto "A";
fileinto "A";
keep;
keep;
fileinto "INBOX";
