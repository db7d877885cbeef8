require ["body", "fileinto"];
if body :contains "revenue is up" { fileinto "Revenue"; }
if body :raw :contains "Numbers: 42" { fileinto "Raw"; }
