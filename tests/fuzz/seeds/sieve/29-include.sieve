require ["include", "fileinto"];
include :personal "inc-lists";
include :once "inc-lists";
include :optional "does-not-exist";
include :global "inc-global";
fileinto "Main";
