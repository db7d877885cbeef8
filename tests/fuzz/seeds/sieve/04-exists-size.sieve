require "fileinto";
if exists ["From", "Date"] { fileinto "BothExist"; }
if exists ["From", "X-Missing"] { fileinto "Wrong"; }
if size :over 100 { fileinto "Over100"; }
if size :under 1K { fileinto "Under1K"; }
if size :over 1M { fileinto "Wrong2"; }
