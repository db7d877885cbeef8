keep;
if { keep; }
