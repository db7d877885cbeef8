require ["fileinto", "copy", "mailbox"];
fileinto :copy "Copies";
fileinto :create "Reports/2026";
