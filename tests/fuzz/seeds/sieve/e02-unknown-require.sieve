require ["fileinto",
         "x-unknown-extension"];
keep;
