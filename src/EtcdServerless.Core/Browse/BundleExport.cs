using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Browse;

/// <summary>
/// <c>backup export ID --bundle -o FILE.tar</c>: the plaintext tar, written 0600 to <c>FILE.tar.part</c> (it holds the
/// encryption configuration and private keys), checked against the manifest (size, SHA-256), then renamed into place;
/// nothing is left behind on failure.
/// </summary>
internal static class BundleExport
{
    public static async Task<BundleReadResult> WriteAsync(IBackupStore store, IKeyStore keys, BackupManifest manifest, string destination, bool overwrite, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        if (manifest.Bundle is not { } bundle)
        {
            throw new InvalidOperationException($"backup {manifest.BackupId} has no control-plane bundle (set Clusters:{manifest.Cluster}:Bundle:AgentUrl for new backups)");
        }

        var part = destination + ".part";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var done = false;
        try
        {
            BundleReadResult read;
            var output = new FileStream(part, options);
            await using (output.ConfigureAwait(false))
            {
                read = await BundleArtifactReader.ReadAsync(store, keys, manifest, (tar, ct) => tar.CopyToAsync(output, 1 << 16, ct), cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }

            if (read.TarSize != bundle.TarSize || !string.Equals(read.TarSha256, bundle.TarSha256, StringComparison.Ordinal))
            {
                throw new InvalidDataException(
                    $"backup {manifest.BackupId}: the bundle decrypts to {read.TarSize} bytes, sha256 {read.TarSha256}; the manifest says {bundle.TarSize}, {bundle.TarSha256}");
            }

            File.Move(part, destination, overwrite);
            done = true;
            return read;
        }
        finally
        {
            if (!done)
            {
                File.Delete(part);
            }
        }
    }
}
