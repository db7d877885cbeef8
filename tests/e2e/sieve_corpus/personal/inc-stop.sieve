require ["fileinto"];
fileinto "InStop";
stop;
