using EtcdServerless.Bench;

// Side-by-side harnesses: each scenario runs ours and the baseline in one process run and prints the ratio.
// Usage: dotnet run -c Release --project bench/EtcdServerless.Bench -- <scenario> [options]
return await BenchCatalog.RunAsync(args).ConfigureAwait(false);
