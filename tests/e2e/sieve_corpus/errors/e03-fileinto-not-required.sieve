keep;

fileinto "A";
