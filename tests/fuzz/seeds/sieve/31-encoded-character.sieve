require ["encoded-character", "fileinto"];
if header :contains "subject" "${hex:51 75}arterly" { fileinto "${unicode:48}ex"; }
fileinto "Caf${unicode:e9}";
