// etcd-backup-agent: the member side of a restore. Built out by the restore work (issue 5).
await Console.Error.WriteLineAsync("etcd-backup-agent: not yet implemented").ConfigureAwait(false);
return 1;
