require "vacation";
vacation :handle "oof-2026" :mime text:
Content-Type: text/plain; charset=utf-8

Away; ..see you soon.
..
.
;
