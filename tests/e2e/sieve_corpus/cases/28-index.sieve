require ["index", "fileinto"];
if header :index 1 :is "x-n" "first" { fileinto "First"; }
if header :index 2 :is "x-n" "second" { fileinto "Second"; }
if header :index 1 :last :is "x-n" "third" { fileinto "LastOne"; }
if header :index 2 :is "x-n" "first" { fileinto "Wrong"; }
