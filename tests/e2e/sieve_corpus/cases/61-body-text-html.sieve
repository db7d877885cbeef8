# case: message=multipart.eml from=juergen@example.de to=bob@example.org
require ["body", "fileinto"];
if body :text :contains "<b>HTML</b>" { fileinto "HtmlTags"; }
if body :text :contains "zebra" { fileinto "HtmlText"; }
if body :content "text/html" :contains "<b>HTML</b>" { fileinto "ContentHtmlTags"; }
