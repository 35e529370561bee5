using System.Runtime.CompilerServices;

// The CLI's assembly is named etcd-backup (the project's InternalsVisibleTo names the project, not the
// assembly), and the Etcd test project reads the bbolt internals directly.
[assembly: InternalsVisibleTo("etcd-backup")]
[assembly: InternalsVisibleTo("EtcdServerless.Etcd.Tests")]
