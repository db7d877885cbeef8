require "fileinto";
if header :matches "subject" "*Q?" { fileinto "Q"; }
if header :matches "x-spam-score" "1?" { fileinto "TwoChars"; }
if header :matches "subject" "\\*" { fileinto "Wrong"; }
if header :matches "subject" "*" { fileinto "Star"; }
if header :contains "x-missing" "" { fileinto "Wrong2"; }
if header :contains "subject" "" { fileinto "EmptyKey"; }
