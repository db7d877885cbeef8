if true { keep; }
else { discard; }
else { keep; }
