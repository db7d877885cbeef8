keep;
frobnicate;
