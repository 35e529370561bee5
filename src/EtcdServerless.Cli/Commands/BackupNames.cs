using System.CommandLine;
using System.CommandLine.Parsing;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// Names of one-shot backups (<c>backup run --name NAME</c>, as RKE/k3s <c>etcd-snapshot save --name</c>). A name
/// is the <c>name</c> tag of the backup's manifest and artifact: tags stay writable on immutable objects and
/// the manifest (covered by its MAC) is not rewritten. Ids stay the sortable time+revision ids; verbs that take
/// an id also take a name.
/// </summary>
internal static class BackupNames
{
    /// <summary>The tag that carries the name.</summary>
    public const string Tag = "name";

    /// <summary><c>--name NAME</c>: 1-63 of <c>[A-Za-z0-9._-]</c>, starting with a letter or digit.</summary>
    public static Option<string?> Option() => new("--name")
    {
        Description = "Name this one-shot backup (e.g. pre-upgrade); later verbs accept the name in place of the id.",
        Validators =
        {
            result =>
            {
                var value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (!IsValid(value))
                {
                    result.AddError($"--name: '{value}' must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
                }
            },
        },
    };

    public static bool IsValid(string value) =>
        value.Length is >= 1 and <= 63 && char.IsAsciiLetterOrDigit(value[0]) && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>Tags the backup's manifest and artifact with <paramref name="name"/>, keeping their other tags.</summary>
    public static async Task SetAsync(IBackupStore store, BackupManifest manifest, string name, CancellationToken cancellationToken)
    {
        foreach (var objectName in new[] { manifest.Artifact.Name, BackupNaming.ManifestName(manifest.Cluster, manifest.BackupId) })
        {
            var tags = (await store.GetTagsAsync(objectName, cancellationToken).ConfigureAwait(false)).ToDictionary(StringComparer.Ordinal);
            tags[Tag] = name;
            await store.SetTagsAsync(objectName, tags, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The backup's name, or null.</summary>
    public static async Task<string?> GetAsync(IBackupStore store, BackupManifest manifest, CancellationToken cancellationToken)
    {
        try
        {
            var tags = await store.GetTagsAsync(BackupNaming.ManifestName(manifest.Cluster, manifest.BackupId), cancellationToken).ConfigureAwait(false);
            return tags.TryGetValue(Tag, out var name) ? name : null;
        }
        catch (BackupObjectNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Resolves <paramref name="idOrName"/>: a backup id or <c>latest</c> as <see cref="BackupApplication.FindBackupAsync"/> does,
    /// else the newest backup carrying that name (in <paramref name="cluster"/> or any configured cluster).
    /// </summary>
    public static async Task<BackupManifest> FindAsync(BackupApplication app, string idOrName, string? cluster, CancellationToken cancellationToken)
    {
        // An id or 'latest' (the one reference parser), or something no name can be: resolved as a reference.
        if (BackupNaming.TryParseReference(idOrName, out _, out var notAReference) || !IsValid(idOrName))
        {
            return await app.FindBackupAsync(idOrName, cluster, cancellationToken).ConfigureAwait(false);
        }

        foreach (var name in app.SelectClusters(cluster))
        {
            var backups = await app.Catalog.ListAsync(name, cancellationToken).ConfigureAwait(false);
            foreach (var backup in backups.Reverse())
            {
                if (await GetAsync(app.Store, backup, cancellationToken).ConfigureAwait(false) == idOrName)
                {
                    return backup;
                }
            }
        }

        // Neither an id nor a known name: a usage error, as a malformed id always was.
        throw new ArgumentException($"{notAReference}, and no backup is named '{idOrName}' in {app.Store.Description}");
    }
}
