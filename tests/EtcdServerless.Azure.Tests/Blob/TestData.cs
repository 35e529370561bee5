using EtcdServerless.Core.Storage;

namespace EtcdServerless.Azure.Tests.Blob;

internal static class TestData
{
    public static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static async Task<StoredObjectInfo> WriteAsync(IBackupStore store, string name, byte[] data, BackupObjectWriteOptions? options = null, int chunk = 10_000)
    {
        await using var writer = await store.OpenWriteAsync(name, options ?? new BackupObjectWriteOptions());
        for (var offset = 0; offset < data.Length; offset += chunk)
        {
            await writer.Content.WriteAsync(data.AsMemory(offset, Math.Min(chunk, data.Length - offset)));
        }

        return await writer.CommitAsync();
    }

    public static async Task<byte[]> ReadAsync(IBackupStore store, string name, long offset = 0, long? length = null)
    {
        await using var stream = await store.OpenReadAsync(name, offset, length);
        using var ms = new MemoryStream();
        await stream.CopyToAsync(ms, 7_777);
        return ms.ToArray();
    }

    public static async Task<List<StoredObjectInfo>> ListAsync(IBackupStore store, string prefix = "")
    {
        var result = new List<StoredObjectInfo>();
        await foreach (var item in store.ListAsync(prefix))
        {
            result.Add(item);
        }

        return result;
    }
}
