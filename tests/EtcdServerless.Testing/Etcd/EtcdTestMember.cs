using System.Diagnostics;

namespace EtcdServerless.Testing.Etcd;

/// <summary>One etcd process of an <see cref="EtcdTestCluster"/>.</summary>
public sealed class EtcdTestMember
{
    internal EtcdTestMember(int index, string name, string clientUrl, string peerUrl, string dataDir, string logPath)
    {
        Index = index;
        Name = name;
        ClientUrl = clientUrl;
        PeerUrl = peerUrl;
        DataDir = dataDir;
        LogPath = logPath;
    }

    /// <summary>Position in <see cref="EtcdTestCluster.Members"/>.</summary>
    public int Index { get; }

    /// <summary>etcd <c>--name</c>.</summary>
    public string Name { get; }

    /// <summary>Client URL (http://127.0.0.1:port or https://...).</summary>
    public string ClientUrl { get; }

    /// <summary>Peer URL (always plain http on loopback).</summary>
    public string PeerUrl { get; }

    /// <summary>etcd <c>--data-dir</c>.</summary>
    public string DataDir { get; }

    /// <summary>File receiving the member's stdout and stderr.</summary>
    public string LogPath { get; }

    internal Process? Process { get; set; }

    /// <summary>True while the etcd process is alive.</summary>
    public bool IsRunning
    {
        get
        {
            var process = Process;
            if (process is null)
            {
                return false;
            }

            try
            {
                return !process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>OS process id of the running etcd, or null.</summary>
    public int? Pid => IsRunning ? Process!.Id : null;

    /// <summary>Last lines of the member's log, for failure messages.</summary>
    public string LogTail(int lines = 40)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }
}
