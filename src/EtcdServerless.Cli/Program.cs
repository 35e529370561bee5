using EtcdServerless.Cli;

return await CliApplication.RunAsync(args).ConfigureAwait(false);
