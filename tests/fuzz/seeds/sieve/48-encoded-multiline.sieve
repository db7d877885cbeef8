require ["encoded-character", "vacation"];
vacation :subject "${hex:4F 6F 4F}" text:
Reply ${unicode:263A}
.
;
