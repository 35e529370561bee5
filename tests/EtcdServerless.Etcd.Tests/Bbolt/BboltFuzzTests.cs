using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Etcd.Tests.Inspection;

namespace EtcdServerless.Etcd.Tests.Bbolt;

/// <summary>
/// Seeded random damage (byte flips biased to page headers and element tables, truncations, zeroed pages) of
/// small real snapshots: the inspector either succeeds or throws InvalidDataException/EndOfStreamException,
/// and always finishes.
/// </summary>
[Trait("Category", "Etcd")]
[Collection(SnapshotCorpusDefinition.Name)]
public sealed class BboltFuzzTests(SnapshotCorpusFixture corpus)
{
    private static readonly TimeSpan s_perInspection = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("tiny", 1, 800)]
    [InlineData("branches", 2, 600)]
    [InlineData("overflow", 3, 600)]
    public async Task InspectAsync_RandomMutations_OnlyDataErrorsAndAlwaysTerminates(string name, int seed, int mutations)
    {
        var snapshot = corpus[name];
        var original = await File.ReadAllBytesAsync(snapshot.Path);
        var map = PageMap.Build(snapshot.Path);
        var random = new Random(seed);
        var path = Path.Combine(corpus.Directory, $"fuzz-{name}.db");
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);

        for (var i = 0; i < mutations; i++)
        {
            var mutated = Mutate(original, map, random);
            await File.WriteAllBytesAsync(path, mutated);
            var options = new SnapshotInspectionOptions
            {
                VerifyTrailer = random.Next(8) == 0,
                TotalKeySemantics = random.Next(2) == 0 ? TotalKeySemantics.Etcd34 : TotalKeySemantics.Etcd36,
            };

            string outcome;
            try
            {
                await Task.Run(() => SnapshotInspector.InspectAsync(path, options)).WaitAsync(s_perInspection);
                outcome = "ok";
            }
            catch (TimeoutException)
            {
                throw new Xunit.Sdk.XunitException($"mutation {i} (seed {seed}) did not finish within {s_perInspection}");
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
            {
                outcome = ex.GetType().Name;
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"mutation {i} (seed {seed}) threw {ex.GetType().Name}: {ex}");
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // Sanity: the mutations actually exercised the error paths.
        Assert.True(outcomes.GetValueOrDefault(nameof(InvalidDataException)) > mutations / 20, string.Join(", ", outcomes));
    }

    private static byte[] Mutate(byte[] original, PageMap map, Random random)
    {
        var data = (byte[])original.Clone();
        var dataLength = (int)map.DataLength;
        switch (random.Next(10))
        {
            case 0:
                // Truncate anywhere (sometimes landing on a trailer-shaped length).
                return data[..random.Next(data.Length)];
            case 1:
                // Zero a whole page.
                var page = random.Next((int)map.PageCount);
                Array.Clear(data, page * map.PageSize, map.PageSize);
                return data;
            case 2:
            case 3:
                // Flip random bytes anywhere.
                for (var n = random.Next(1, 9); n > 0; n--)
                {
                    data[random.Next(dataLength)] ^= (byte)random.Next(1, 256);
                }

                return data;
            default:
                // Flip bytes in the header or element table of a reachable page, where structure lives.
                var target = map.Pages[random.Next(map.Pages.Count)];
                var span = Math.Min(16 + (Math.Max(target.Count, 1) * 16), map.PageSize);
                for (var n = random.Next(1, 4); n > 0; n--)
                {
                    var at = target.Offset + random.Next(span);
                    data[at] = random.Next(3) switch
                    {
                        0 => (byte)(data[at] ^ (1 << random.Next(8))),
                        1 => 0xFF,
                        _ => (byte)random.Next(256),
                    };
                }

                return data;
        }
    }
}
