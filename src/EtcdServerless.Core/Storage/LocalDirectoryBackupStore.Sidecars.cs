using System.Text.Json;

namespace EtcdServerless.Core.Storage;

// Where an object's bytes and its hidden sidecars (metadata, tags) live, and how they are read and replaced.
internal sealed partial class LocalDirectoryBackupStore
{
    private const string MetaSuffix = ".meta.json";
    private const string TagsSuffix = ".tags.json";

    private string ContentPath(string name) => Path.Combine(Root, name.Replace('/', Path.DirectorySeparatorChar));

    private string SidecarPath(string name, string suffix)
    {
        var content = ContentPath(name);
        return Path.Combine(Path.GetDirectoryName(content)!, "." + Path.GetFileName(content) + suffix);
    }

    private async Task<StoredObjectInfo?> DescribeAsync(string name, FileInfo file, CancellationToken cancellationToken)
    {
        file.Refresh();
        if (!file.Exists)
        {
            return null;
        }

        var lastModified = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
        DateTimeOffset retainUntil;
        var bytes = await ReadSidecarAsync(name, MetaSuffix, cancellationToken).ConfigureAwait(false);
        LocalObjectMetadata? meta = null;
        if (bytes is not null)
        {
            try
            {
                meta = JsonSerializer.Deserialize(bytes, StorageJsonContext.Default.LocalObjectMetadata);
            }
            catch (JsonException)
            {
                // Unreadable metadata: fall back to the conservative default below.
            }
        }

        retainUntil = meta?.RetainUntil ?? lastModified + DefaultRetention;
        return new StoredObjectInfo(name, file.Length, meta?.Created ?? lastModified)
        {
            RetainUntil = retainUntil,
            ETag = $"\"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}\"",
        };
    }

    private async Task<byte[]?> ReadSidecarAsync(string name, string suffix, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(SidecarPath(name, suffix), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    // Sidecars are replaced atomically (staged, fsynced, renamed over the old one).
    private async Task WriteSidecarAsync(string name, string suffix, byte[] content, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(StagingDirectory, $"{Guid.NewGuid():N}.sidecar");
        try
        {
            var stream = new FileStream(temp, StagingFileOptions(FileAccess.Write, FileOptions.Asynchronous, 4096));
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, SidecarPath(name, suffix), overwrite: true);
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Cannot write metadata of '{name}' in {Description}.", ex);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static void ValidateTags(IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Count > MaxTags)
        {
            throw new ArgumentException($"At most {MaxTags} tags per object (the Blob index-tag limit).", nameof(tags));
        }

        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > 128 || value is null || value.Length > 256)
            {
                throw new ArgumentException($"Invalid tag '{key}': keys are 1-128 and values 0-256 characters.", nameof(tags));
            }
        }
    }
}
