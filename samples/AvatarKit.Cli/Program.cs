// The CLI arrives with the pipeline issue; until then it says so plainly.
Console.WriteLine("AvatarKit CLI: the demo is not built yet (see the pipeline issue). Run './build.sh test' to run the test suite.");
return 0;
