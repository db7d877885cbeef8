require ["encoded-character", "fileinto"];
if header :contains "subject" "${unicode: 51 75 61}" { fileinto "UnicodeSeq"; }
if header :contains "subject" "${hex:}" { fileinto "EmptyHexLiteral"; }
