SELECT nosuchfunc(1);
