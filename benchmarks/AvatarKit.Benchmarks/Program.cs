using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project benchmarks/AvatarKit.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
