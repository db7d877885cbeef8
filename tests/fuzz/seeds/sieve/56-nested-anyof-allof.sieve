require ["fileinto"];
if anyof (allof (header :contains "subject" "report", not header :contains "subject" "spam"),
          header :is "x-priority" "1") {
  if allof (address :domain "from" "example.com", size :under 100K) {
    fileinto "Deep";
  } else {
    fileinto "NotDeep";
  }
}
