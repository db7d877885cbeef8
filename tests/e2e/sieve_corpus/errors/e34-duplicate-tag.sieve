require ["vacation"];
vacation :days 3 :days 4 "x";
