keep;
redirect "not an address";
