# case: message=multipart.eml from=juergen@example.de to=bob@example.org
require ["body", "fileinto"];
if body :content "text" :contains "zebra" { fileinto "TextMainType"; }
if body :content "text/plain" :contains "zebra" { fileinto "Wrong"; }
if body :content "" :contains "marzipan" { fileinto "AnyPart"; }
if body :text :contains "Grüße" { fileinto "Utf8"; }
if body :content "multipart" :contains "preamble" { fileinto "Preamble"; }
if body :content "multipart" :contains "walrus" { fileinto "Epilogue"; }
