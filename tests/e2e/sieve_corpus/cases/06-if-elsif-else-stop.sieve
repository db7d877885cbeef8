require "fileinto";
if header :is "x-priority" "1" {
  fileinto "P1";
} elsif header :is "x-priority" "2" {
  fileinto "P2";
} else {
  fileinto "Other";
}
if true { stop; }
fileinto "AfterStop";
