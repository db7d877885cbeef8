require "fileinto";
if false { fileinto "A"; } elsif false { fileinto "B"; } elsif true { fileinto "C"; } else { fileinto "D"; }
if true { fileinto "E"; } elsif true { fileinto "F"; }
if false { fileinto "G"; } else { if true { fileinto "H"; } }
