require ["fileinto", "variables"];
set "a" "hello world";
if string :contains "${a}" "lo wo" { fileinto "StrContains"; }
if string :is "${missing}" "" { fileinto "EmptyMissing"; }
set :quotewildcard "q" "a*b?";
if string :is "${q}" "a\\*b\\?" { fileinto "Quoted"; }
