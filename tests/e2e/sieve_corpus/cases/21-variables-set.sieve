require ["fileinto", "variables"];
set "folder" "Archive";
set :upper "up" "mixed Case";
set :lowerfirst "lf" "ABC";
set :length "len" "héllo";
fileinto "${folder}";
fileinto "${up}-${lf}-${len}";
fileinto "${unknown}x";
