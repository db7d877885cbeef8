require ["fileinto", "variables"];
set :upper :lowerfirst "a" "hello";
set :quotewildcard :upper "b" "x*y";
set :length :upper "c" "abc";
set "d" "${a}${b}${c}";
fileinto "${d}";
if string :matches "${b}" "X\\\\**" { fileinto "QuotedMatch"; }
set "e" "";
if string :is "${e}" "" { fileinto "Empty"; }
