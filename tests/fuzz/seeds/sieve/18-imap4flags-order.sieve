require ["fileinto", "imap4flags"];
fileinto "Hello";
addflag "\\Seen";
fileinto "Second";
addflag ["\\flagged", "Custom"];
removeflag "\\seen";
