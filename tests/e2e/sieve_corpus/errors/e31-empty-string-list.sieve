keep;

if header :is [] "x" { keep; }
