require "vacation";
vacation :from "no address here" "away";
