# case: message=multipart.eml from=juergen@example.de to=bob@example.org
require ["body", "fileinto"];
if body :contains "marzipan" { fileinto "TextPart"; }
if body :content "text/html" :contains "zebra" { fileinto "HtmlPart"; }
if body :raw :contains "c2VjcmV0IGF0dGFjaG1lbnQ" { fileinto "RawBase64"; }
if body :content "application/octet-stream" :contains "attachment payload" { fileinto "Decoded"; }
if body :text :contains "preamble" { fileinto "Wrong"; }
