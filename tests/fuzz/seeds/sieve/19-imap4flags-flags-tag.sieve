require ["fileinto", "imap4flags"];
setflag "\\Answered";
fileinto :flags ["\\Seen", "Junk"] "Tagged";
keep :flags "\\Deleted";
