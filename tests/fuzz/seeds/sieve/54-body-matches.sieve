require ["body", "fileinto"];
if body :matches "*quarterly report*" { fileinto "Matches"; }
if body :is "x" { fileinto "Wrong"; }
if body :contains ["nothing", "Regards"] { fileinto "Regards"; }
