namespace EtcdServerless.Testing.Infrastructure;

/// <summary>
/// Finds external programs the tests need (etcd, etcdctl, azurite). A missing program fails the test with
/// an install hint: tests never skip silently because a dependency is missing.
/// </summary>
public static class RequiredTool
{
    /// <summary>Returns the absolute path of <paramref name="name"/> on PATH, or throws with an install hint.</summary>
    public static string Find(string name, string installHint)
    {
        var found = TryFind(name);
        return found ?? throw new InvalidOperationException(
            $"Required test dependency '{name}' was not found on PATH. Install it: {installHint}");
    }

    /// <summary>Returns the absolute path of <paramref name="name"/> on PATH, or null.</summary>
    public static string? TryFind(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
