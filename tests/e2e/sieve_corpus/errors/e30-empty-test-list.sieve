keep;
if anyof () { keep; }
