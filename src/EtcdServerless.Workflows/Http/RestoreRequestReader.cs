using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace EtcdServerless.Workflows.Http;

/// <summary>Reads and validates the body of <c>POST /api/clusters/{cluster}/restores</c>, naming each bad field.</summary>
internal static class RestoreRequestReader
{
    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> of the body: null when it is longer (the caller answers 413), so a
    /// large body is never buffered or parsed, whatever limit the host enforces.
    /// </summary>
    public static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        var buffer = new byte[maxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        return length > maxBytes ? null : buffer[..length];
    }

    public static (RestoreApiRequest? Request, Dictionary<string, string[]> Errors) Read(ReadOnlyMemory<byte> body, string cluster)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            errors["body"] = [$"is not valid JSON: {ex.Message}"];
            return (null, errors);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors["body"] = ["must be a JSON object"];
                return (null, errors);
            }

            var backup = String(root, "backup", errors) ?? "latest";
            var dryRun = Bool(root, "dryRun", errors) ?? false;
            var confirm = String(root, "confirm", errors);
            var reason = String(root, "reason", errors);
            var token = String(root, "newClusterToken", errors);
            var forceVersion = Bool(root, "forceVersion", errors) ?? false;
            var restoreBundle = Bool(root, "restoreBundle", errors) ?? false;
            var members = Members(root, errors);
            var toRevision = Long(root, "toRevision", errors);
            var toTime = Time(root, "toTime", errors);
            if (toRevision is < 1)
            {
                errors["toRevision"] = ["must be at least 1"];
            }

            if (toRevision is not null && toTime is not null)
            {
                errors["toTime"] = ["give toRevision or toTime, not both"];
            }

            if ((toRevision is not null || toTime is not null) && TryGet(root, "backup", out var given) && given.ValueKind != JsonValueKind.Null)
            {
                errors["backup"] = ["a point-in-time restore (toRevision/toTime) chooses its backup itself: leave backup out"];
            }

            if (!Core.Catalog.BackupNaming.TryParseReference(backup, out _, out var notAReference))
            {
                // The one parser of backup references (CLI verbs, the restore's resolution step and this body).
                errors["backup"] = [notAReference];
            }

            if (!dryRun && !string.Equals(confirm, cluster, StringComparison.Ordinal))
            {
                errors["confirm"] = ["must equal the cluster name"];
            }

            if (!dryRun && string.IsNullOrWhiteSpace(reason))
            {
                errors["reason"] = ["is required for a real restore (it is recorded with the result)"];
            }

            if (token is not null && (token.Length is 0 or > 64 || token.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_' and not '.')))
            {
                errors["newClusterToken"] = ["must be 1-64 letters, digits, '.', '_' or '-'"];
            }

            if (errors.Count > 0)
            {
                return (null, errors);
            }

            return (new RestoreApiRequest
            {
                Cluster = cluster,
                Backup = backup,
                DryRun = dryRun,
                Confirm = confirm,
                Reason = reason,
                NewClusterToken = token,
                ForceVersion = forceVersion,
                RestoreBundle = restoreBundle,
                Members = members,
                ToRevision = toRevision,
                ToTime = toTime,
            }, errors);
        }
    }

    private static string? String(JsonElement root, string name, Dictionary<string, string[]> errors, string? path = null)
    {
        if (!TryGet(root, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors[path ?? name] = ["must be a string"];
            return null;
        }

        return value.GetString();
    }

    private static long? Long(JsonElement root, string name, Dictionary<string, string[]> errors)
    {
        if (!TryGet(root, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            errors[name] = ["must be an integer"];
            return null;
        }

        return number;
    }

    private static DateTimeOffset? Time(JsonElement root, string name, Dictionary<string, string[]> errors)
    {
        if (!TryGet(root, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out var time))
        {
            errors[name] = ["must be an ISO 8601 time such as 2026-11-30T21:00:00Z"];
            return null;
        }

        return time;
    }

    private static bool? Bool(JsonElement root, string name, Dictionary<string, string[]> errors)
    {
        if (!TryGet(root, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors[name] = ["must be true or false"];
            return null;
        }

        return value.GetBoolean();
    }

    /// <summary>
    /// Reads a members file (<c>restore run --members FILE.json</c>): the API body's <c>members</c> array, alone or as
    /// <c>{"members": [...]}</c>, checked by the same rules as the HTTP body.
    /// </summary>
    public static (IReadOnlyList<RestoreApiMember> Members, Dictionary<string, string[]> Errors) ReadMembers(ReadOnlyMemory<byte> json)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            errors["members"] = [$"is not valid JSON: {ex.Message}"];
            return ([], errors);
        }

        using (document)
        {
            var root = document.RootElement;
            var members = root.ValueKind == JsonValueKind.Array ? MemberArray(root, errors) : Members(root, errors);
            if (errors.Count == 0 && members.Count == 0)
            {
                errors["members"] = ["must list at least one member {name, peerUrl, clientUrl, agentUrl}"];
            }

            return (members, errors);
        }
    }

    private static List<RestoreApiMember> Members(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (root.ValueKind != JsonValueKind.Object || !TryGet(root, "members", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        return MemberArray(value, errors);
    }

    private static List<RestoreApiMember> MemberArray(JsonElement value, Dictionary<string, string[]> errors)
    {
        var members = new List<RestoreApiMember>();
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors["members"] = ["must be an array of {name, peerUrl, clientUrl, agentUrl}"];
            return members;
        }

        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var prefix = $"members[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors[prefix] = ["must be an object"];
                continue;
            }

            var member = new RestoreApiMember
            {
                Name = String(item, "name", errors, $"{prefix}.name"),
                PeerUrl = String(item, "peerUrl", errors, $"{prefix}.peerUrl"),
                ClientUrl = String(item, "clientUrl", errors, $"{prefix}.clientUrl"),
                AgentUrl = String(item, "agentUrl", errors, $"{prefix}.agentUrl"),
            };
            if (string.IsNullOrWhiteSpace(member.Name) && !errors.ContainsKey($"{prefix}.name"))
            {
                errors[$"{prefix}.name"] = ["is required"];
            }

            foreach (var (field, url) in new[] { ("peerUrl", member.PeerUrl), ("clientUrl", member.ClientUrl), ("agentUrl", member.AgentUrl) })
            {
                if ((!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                    && !errors.ContainsKey($"{prefix}.{field}"))
                {
                    errors[$"{prefix}.{field}"] = ["must be an http(s) URL"];
                }
            }

            members.Add(member);
        }

        return members;
    }

    // Property names are matched case-insensitively, like the binder and ASP.NET Core's JSON defaults.
    private static bool TryGet(JsonElement root, string name, out JsonElement value)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
