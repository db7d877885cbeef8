require "include";
include "no-such-script";
