require "fileinto";
if true {
  fileinto "A";
}}
