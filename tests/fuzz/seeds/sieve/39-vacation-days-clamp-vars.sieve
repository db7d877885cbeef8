require ["vacation", "variables"];
if header :matches "subject" "*" { set "subj" "${1}"; }
vacation :days 100 :subject "Re: ${subj}" "I saw: ${subj}";
