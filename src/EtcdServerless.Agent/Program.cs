// etcd-backup-agent [--config FILE]: the member side of a restore (see AgentCommandLine).
return await EtcdServerless.Agent.AgentCommandLine.RunAsync(args).ConfigureAwait(false);
