require ["imap4flags", "fileinto", "copy"];
setflag ["\\Seen", "Work Work"];
fileinto :copy "Copy";
removeflag "work";
addflag "\\Answered";
