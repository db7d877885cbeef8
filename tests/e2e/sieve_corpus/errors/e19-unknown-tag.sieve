require "fileinto";
fileinto :nonsense "A";
