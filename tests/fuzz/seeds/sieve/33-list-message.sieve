# case: message=list.eml from=announce-owner@lists.example.com to=bob@example.org
require ["fileinto", "date", "variables"];
if exists "list-id" { fileinto "Lists"; }
if date :is "date" "date" "2026-12-06" { fileinto "UTCNextDay"; }
if header :matches "list-id" "*<*>" { fileinto "${2}"; }
