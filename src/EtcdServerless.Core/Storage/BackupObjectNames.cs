namespace EtcdServerless.Core.Storage;

/// <summary>
/// Rules for object names shared by all stores: '/'-separated relative paths whose segments are non-empty,
/// do not start with '.', and use only letters, digits, '-', '_', '.' (so they are safe as file paths and
/// blob names, and hidden names stay free for the local store's bookkeeping).
/// </summary>
internal static class BackupObjectNames
{
    public const int MaxLength = 1024;

    public static void Validate(string name, string paramName = "name")
    {
        ArgumentException.ThrowIfNullOrEmpty(name, paramName);
        if (!IsValid(name))
        {
            throw new ArgumentException(
                $"Invalid object name '{name}': at most {MaxLength} characters; segments must be non-empty, not start with '.', and use [A-Za-z0-9._-].",
                paramName);
        }
    }

    /// <summary>Whether <paramref name="name"/> is a valid object name.</summary>
    public static bool IsValid(string name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && name.Split('/').All(s => s.Length > 0 && s[0] != '.' && s.All(IsAllowed));

    /// <summary>Validates a listing prefix: like a name, but may be empty or end with '/'.</summary>
    public static void ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var trimmed = prefix.EndsWith('/') ? prefix[..^1] : prefix;
        if (trimmed.Length > 0)
        {
            Validate(trimmed, nameof(prefix));
        }
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
