using System.Security.Cryptography;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Inspection;
using Microsoft.Win32.SafeHandles;

namespace EtcdServerless.Core.Browse;

/// <summary>
/// A backup's plaintext snapshot, decrypted into a private temp folder (0700, file 0600) so the bbolt reader can
/// seek in it, and checked against the manifest (size and SHA-256 of the whole file) before anyone reads it.
/// etcd's own sha256 trailer is not hashed a second time: the backup verified it before recording the file's
/// SHA-256, so equal digests mean the same, already verified bytes. Disposing deletes the folder; opening deletes it too when anything fails.
/// </summary>
internal sealed class DecryptedSnapshot : IDisposable
{
    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const int CopyBufferSize = 1 << 20;

    private readonly string _folder;

    private DecryptedSnapshot(string folder, string path, SafeFileHandle handle, BackupManifest manifest)
    {
        _folder = folder;
        Path = path;
        Handle = handle;
        Manifest = manifest;
    }

    /// <summary>Prefix of the temp folders, so leftovers of a killed process can be recognised.</summary>
    public const string FolderPrefix = "etcd-backup-browse-";

    /// <summary>The plaintext snapshot (etcd's format: bbolt database + 32-byte sha256 trailer).</summary>
    public string Path { get; }

    /// <summary>A read handle on <see cref="Path"/>.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The backup it came from.</summary>
    public BackupManifest Manifest { get; }

    /// <summary>Bytes of the bbolt database (the trailer excluded).</summary>
    public long DataLength => Manifest.Snapshot.Size - SnapshotTrailer.Size;

    /// <summary>
    /// Downloads and decrypts the backup's artifact once. <see cref="InvalidDataException"/> when the plaintext
    /// differs from what the manifest recorded; the envelope's own errors when the ciphertext was tampered with.
    /// </summary>
    public static async Task<DecryptedSnapshot> OpenAsync(IBackupStore store, IKeyStore keys, BackupManifest manifest, string? tempRoot = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(manifest);
        var folder = System.IO.Path.Combine(tempRoot ?? System.IO.Path.GetTempPath(), $"{FolderPrefix}{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, FolderMode);
        }

        SafeFileHandle? handle = null;
        try
        {
            var path = System.IO.Path.Combine(folder, "snapshot.db");
            await DecryptAsync(store, keys, manifest, path, cancellationToken).ConfigureAwait(false);
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return new DecryptedSnapshot(folder, path, handle, manifest);
        }
        catch
        {
            handle?.Dispose();
            DeleteFolder(folder);
            throw;
        }
    }

    /// <summary>Copies the plaintext snapshot, byte for byte, to <paramref name="destination"/> (created 0600).</summary>
    /// <param name="destination">The file to write.</param>
    /// <param name="overwrite">Replace an existing file; otherwise an existing file is an <see cref="IOException"/>.</param>
    /// <param name="cancellationToken">Cancels the copy; a partial file is removed.</param>
    public async Task ExportAsync(string destination, bool overwrite, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(destination);
        var options = new FileStreamOptions
        {
            Mode = overwrite ? FileMode.Create : FileMode.CreateNew,
            Access = FileAccess.Write,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }

        FileStream output;
        try
        {
            output = new FileStream(destination, options);
        }
        catch (IOException) when (!overwrite && File.Exists(destination))
        {
            throw new IOException($"'{destination}' already exists (use --force to overwrite it)");
        }

        var complete = false;
        try
        {
            await using (output.ConfigureAwait(false))
            {
                if (!OperatingSystem.IsWindows())
                {
                    // An overwritten file keeps its old mode; a snapshot holds every secret of the cluster.
                    File.SetUnixFileMode(output.SafeFileHandle, FileMode600);
                }

                output.SetLength(0);
                var buffer = new byte[CopyBufferSize];
                long offset = 0;
                int read;
                while ((read = await RandomAccess.ReadAsync(Handle, buffer, offset, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    offset += read;
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }

            complete = true;
        }
        finally
        {
            if (!complete)
            {
                File.Delete(destination);
            }
        }
    }

    public void Dispose()
    {
        Handle.Dispose();
        DeleteFolder(_folder);
    }

    /// <summary>
    /// Decrypts the backup's artifact into a new 0600 file at <paramref name="path"/> and checks its size and SHA-256
    /// against the manifest (<see cref="InvalidDataException"/> naming the backup when they differ).
    /// </summary>
    public static async Task DecryptAsync(IBackupStore store, IKeyStore keys, BackupManifest manifest, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(manifest);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        var output = new FileStream(path, options);
        await using (output.ConfigureAwait(false))
        {
            var stored = await store.OpenReadAsync(manifest.Artifact.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (stored.ConfigureAwait(false))
            {
                var plain = await EnvelopeReadStream.OpenAsync(stored, keys, leaveOpen: true, cancellationToken).ConfigureAwait(false);
                await using (plain.ConfigureAwait(false))
                {
                    var buffer = new byte[CopyBufferSize];
                    int read;
                    while ((read = await plain.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        sha.AppendData(buffer, 0, read);
                        size += read;
                        if (size > manifest.Snapshot.Size)
                        {
                            throw new InvalidDataException(
                                $"backup {manifest.BackupId}: decrypted snapshot is longer than the {manifest.Snapshot.Size} bytes its manifest records");
                        }

                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }

        var digest = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (size != manifest.Snapshot.Size || !string.Equals(digest, manifest.Snapshot.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"backup {manifest.BackupId}: decrypted snapshot ({size} bytes, sha256 {digest}) differs from its manifest ({manifest.Snapshot.Size} bytes, sha256 {manifest.Snapshot.Sha256})");
        }
    }

    private static void DeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
